SUMMARY = "Feedline appliance image"
DESCRIPTION = "A bootable image that runs the Feedline encoder at boot: GStreamer with its \
               plugins, libsrt, linuxptp, and A/B updates with RAUC."
BUGTRACKER = "https://github.com/feedline/feedline/issues"
SECTION = "images"
LICENSE = "MIT"
CVE_PRODUCT = "feedline"

inherit core-image

IMAGE_FEATURES += "ssh-server-openssh"

IMAGE_INSTALL += "feedline \
                  feedline-ptp \
                  gstreamer1.0-libav \
                  gstreamer1.0-plugins-bad-meta \
                  gstreamer1.0-plugins-base-meta \
                  gstreamer1.0-plugins-good-meta \
                  gstreamer1.0-plugins-ugly-meta \
                  linuxptp \
                  rauc \
                  v4l-utils"
