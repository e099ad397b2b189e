SUMMARY = "Feedline live-video contribution encoder"
DESCRIPTION = "Captures SDI/HDMI or network sources, stamps timecode, encodes a GOP-aligned \
               ABR ladder and pushes SRT, RIST or RTP-FEC contribution, with a web UI, an HTTP \
               API and Prometheus metrics."
# The project's address; not reachable from the lint's machine.
# nooelint: oelint.vars.homepageping
HOMEPAGE = "https://github.com/feedline/feedline"
BUGTRACKER = "https://github.com/feedline/feedline/issues"
SECTION = "multimedia"
LICENSE = "MIT | Apache-2.0"
LIC_FILES_CHKSUM = "file://Cargo.toml;beginline=8;endline=8;md5=86b31c7756a1a7962f28b62856ed4f05"
CVE_PRODUCT = "feedline"

DEPENDS += "feedline-webui ffmpeg glib-2.0 gmp gnutls gstreamer1.0 gstreamer1.0-plugins-base nettle srt"

PV .= "+git"

SRC_URI = "git://github.com/feedline/feedline.git;protocol=https;branch=main"
SRCREV = "ddd2a5fc2320e0e2d7c9f5263950b4e1dfedcbf8"

S = "${WORKDIR}/git"

require feedline-crates.inc

inherit cargo cargo-update-recipe-crates pkgconfig systemd useradd

CARGO_BUILD_FLAGS += "-p feedline"
# The web UI is built by feedline-webui; the binary embeds it at compile time.
export FEEDLINE_UI_DIST = "${STAGING_DATADIR}/feedline-webui"
# SRT group outputs link libsrt statically, built with socket groups (srt_%.bbappend).
export FEEDLINE_SRT_LIBDIR = "${STAGING_LIBDIR}"

USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system render"
USERADD_PARAM:${PN} = "--system --home-dir ${localstatedir}/lib/feedline --no-create-home \
                       --shell ${base_sbindir}/nologin --groups video,render --user-group feedline"

SYSTEMD_PACKAGES = "${PN} ${PN}-ptp"
SYSTEMD_SERVICE:${PN} = "feedline.service"
SYSTEMD_SERVICE:${PN}-ptp = "feedline-ptp4l.service feedline-phc2sys.service"
SYSTEMD_AUTO_ENABLE:${PN}-ptp = "disable"

do_install:append() {
    install -d ${D}${systemd_system_unitdir} ${D}${sysconfdir}/feedline
    install -m 0644 ${S}/systemd/feedline.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/systemd/feedline-ptp4l.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/systemd/feedline-phc2sys.service ${D}${systemd_system_unitdir}/
    install -m 0644 ${S}/systemd/feedline-console.service ${D}${systemd_system_unitdir}/
    install -d ${D}${nonarch_libdir}/feedline
    install -m 0755 ${S}/packaging/lib/show-setup-code ${D}${nonarch_libdir}/feedline/
    install -m 0644 ${S}/config/feedline.toml ${D}${sysconfdir}/feedline/
    install -m 0644 ${S}/systemd/ptp4l.conf ${D}${sysconfdir}/feedline/
    install -d ${D}${nonarch_base_libdir}/udev/rules.d
    install -m 0644 ${S}/udev/60-feedline.rules ${D}${nonarch_base_libdir}/udev/rules.d/
    install -d ${D}${nonarch_libdir}/tmpfiles.d
    install -m 0644 ${S}/systemd/tmpfiles.d/feedline.conf ${D}${nonarch_libdir}/tmpfiles.d/
}

PACKAGES =+ "${PN}-ptp"

FILES:${PN}-ptp += "${systemd_system_unitdir}/feedline-phc2sys.service \
                    ${systemd_system_unitdir}/feedline-ptp4l.service \
                    ${sysconfdir}/feedline/ptp4l.conf"
FILES:${PN} += "${nonarch_base_libdir}/udev/rules.d/60-feedline.rules \
                ${nonarch_libdir}/tmpfiles.d/feedline.conf \
                ${nonarch_libdir}/feedline/show-setup-code \
                ${systemd_system_unitdir}/feedline-console.service"

CONFFILES:${PN} = "${sysconfdir}/feedline/feedline.toml"
CONFFILES:${PN}-ptp = "${sysconfdir}/feedline/ptp4l.conf"

RDEPENDS:${PN} += "gstreamer1.0-libav \
                   gstreamer1.0-plugins-bad-meta \
                   gstreamer1.0-plugins-base-meta \
                   gstreamer1.0-plugins-good-meta \
                   gstreamer1.0-plugins-ugly-meta \
                   srt"
RDEPENDS:${PN}-ptp += "linuxptp"
