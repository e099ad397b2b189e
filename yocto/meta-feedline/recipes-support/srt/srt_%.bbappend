# Feedline's SRT group outputs need libsrt's socket groups (ENABLE_BONDING, off by default) and
# link it statically, with GnuTLS as on Debian (in the feedline distro).
EXTRA_OECMAKE:append:feedline = " -DENABLE_BONDING=ON -DENABLE_STATIC=ON -DUSE_ENCLIB=gnutls"
DEPENDS:append:feedline = " gnutls nettle gmp"
