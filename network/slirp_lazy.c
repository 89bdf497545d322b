/* libslirp, loaded on first use (lib/dynlib.h): it pulls in glib, which
 * costs every exec; only rootless containers with a network use it. One
 * stub per function network/slirp.c calls. */
#include "lib/dynlib.h"

#include <slirp/libslirp.h>

static struct dynlib slirp_lib = DYNLIB_INIT ("libslirp.so.0");

DYNLIB_STUB (slirp_lib, Slirp *, slirp_new,
             (const SlirpConfig *cfg, const SlirpCb *cb, void *opaque),
             (cfg, cb, opaque))
DYNLIB_STUB_VOID (slirp_lib, slirp_cleanup, (Slirp * slirp), (slirp))
DYNLIB_STUB_VOID (slirp_lib, slirp_pollfds_fill,
                  (Slirp * slirp, uint32_t *timeout, SlirpAddPollCb add,
                   void *opaque),
                  (slirp, timeout, add, opaque))
DYNLIB_STUB_VOID (slirp_lib, slirp_pollfds_poll,
                  (Slirp * slirp, int error, SlirpGetREventsCb get,
                   void *opaque),
                  (slirp, error, get, opaque))
DYNLIB_STUB_VOID (slirp_lib, slirp_input,
                  (Slirp * slirp, const uint8_t *pkt, int len),
                  (slirp, pkt, len))
DYNLIB_STUB (slirp_lib, int, slirp_add_hostfwd,
             (Slirp * slirp, int udp, struct in_addr host_addr, int host_port,
              struct in_addr guest_addr, int guest_port),
             (slirp, udp, host_addr, host_port, guest_addr, guest_port))
