/* network connect and disconnect (cmd/network_connect.c), subcommands of
 * cmd/network.c's `network`: argv[0] is "network connect" or "network
 * disconnect". */
#ifndef IMGTOOL_NETWORK_CONNECT_H
#define IMGTOOL_NETWORK_CONNECT_H

#include "cmd/command.h"
#include "cmd/opttable.h"

int network_connect (struct global *g, int argc, char **argv, struct err **err);
int network_disconnect (struct global *g, int argc, char **argv,
                        struct err **err);
extern const struct cmd_spec cmd_network_connect_spec,
    cmd_network_disconnect_spec;

#endif
