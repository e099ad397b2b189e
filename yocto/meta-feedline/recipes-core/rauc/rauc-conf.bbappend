FILESEXTRAPATHS:prepend:feedline := "${THISDIR}/files:"

SRC_URI:append:feedline = " file://system.conf"
