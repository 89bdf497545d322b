/* The /etc files of a container that the core writes and bind-mounts
 * (hostname, hosts, resolv.conf; etcfiles.c), and the helpers network/
 * uses for the same files. */
#ifndef IMGTOOL_ETCFILES_H
#define IMGTOOL_ETCFILES_H

struct err;

/* The container's resolv.conf from the host's text: loopback and IPv6
 * nameservers dropped (unreachable from the container's IPv4 netns), 8.8.8.8
 * and 8.8.4.4 when none remain; search and options kept. */
char *rt_resolv_conf_filter (const char *host_text);

struct rt_plan;
/* text with --dns, --dns-search and --dns-option applied as docker applies
 * them: each that is given replaces the nameserver, search or options
 * lines; the rest is kept. Allocated (a copy of text when none is given). */
char *rt_resolv_conf_dns (const char *text, const struct rt_plan *p);

/* --add-host NAME:IP (or NAME=IP, docker's ValidateExtraHost) as the
 * line "IP\tNAME"; IP "host-gateway" is gateway (NULL: only checked, and
 * *line is NULL). Errors exit 125. */
int rt_extra_host_parse (const char *arg, const char *gateway, char **line,
                         struct err **err);

/* text followed by the plan's --add-host lines. Allocated. */
char *rt_hosts_extra (const char *text, const struct rt_plan *p);

/* The host's resolv.conf ("" if unreadable); systemd-resolved's upstream
 * file when the host points at its stub 127.0.0.53. */
char *rt_host_resolv_conf (void);

/* --network host: dir/hosts and dir/resolv.conf are copies of the host's
 * (with p's --add-host and --dns options). */
int rt_write_etc_host (const char *dir, const struct rt_plan *p,
                       struct err **err);

/* Replace a file's content keeping its inode: a container sees the file
 * through a bind mount of that inode. */
int rt_write_in_place (const char *path, const char *text, struct err **err);

#endif
