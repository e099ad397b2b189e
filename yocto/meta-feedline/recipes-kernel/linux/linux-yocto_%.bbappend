FILESEXTRAPATHS:prepend:feedline := "${THISDIR}/linux-yocto:"

SRC_URI:append:feedline = " file://feedline-media.cfg"
