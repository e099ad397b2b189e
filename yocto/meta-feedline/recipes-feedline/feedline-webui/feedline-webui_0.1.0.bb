SUMMARY = "Feedline web UI"
DESCRIPTION = "The browser UI of the Feedline encoder (Svelte, TypeScript), built with Vite; \
               the feedline binary embeds the built files."
# The project's address; not reachable from the lint's machine.
# nooelint: oelint.vars.homepageping
HOMEPAGE = "https://github.com/feedline/feedline"
BUGTRACKER = "https://github.com/feedline/feedline/issues"
SECTION = "multimedia"
LICENSE = "MIT | Apache-2.0"
LIC_FILES_CHKSUM = "file://${WORKDIR}/git/Cargo.toml;beginline=8;endline=8;md5=86b31c7756a1a7962f28b62856ed4f05"
CVE_PRODUCT = "feedline"

PV .= "+git"

SRC_URI = "git://github.com/feedline/feedline.git;protocol=https;branch=main \
           npmsw://${THISDIR}/files/npm-shrinkwrap.json"
SRCREV = "ddd2a5fc2320e0e2d7c9f5263950b4e1dfedcbf8"

S = "${WORKDIR}/git/web-ui"

inherit npm

do_compile:append() {
    npm run build
}

# Build-time only: installed into the sysroot for feedline's compile step.
do_install() {
    install -d ${D}${datadir}/feedline-webui
    cp -R --no-preserve=ownership ${S}/dist/. ${D}${datadir}/feedline-webui/
}

SYSROOT_DIRS += "${datadir}/feedline-webui"

BBCLASSEXTEND = "native"
