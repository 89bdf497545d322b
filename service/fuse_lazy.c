/* libfuse3, loaded on the first call of one of its functions (see
 * lib/dynlib.h): only a monitor serving a lazily pulled layer
 * (service/lazyfs.c) uses it. One stub per function; the link fails on a
 * new one until it is added here. The headers are libfuse 3.14's, so the
 * ABI is that of libfuse3.so.3. */
#define FUSE_USE_VERSION 31
#include "lib/dynlib.h"

#include <fuse_lowlevel.h>

static struct dynlib fuse_lib = DYNLIB_INIT ("libfuse3.so.3");

DYNLIB_STUB (fuse_lib, struct fuse_session *, fuse_session_new,
             (struct fuse_args * args, const struct fuse_lowlevel_ops *op,
              size_t op_size, void *userdata),
             (args, op, op_size, userdata))
DYNLIB_STUB (fuse_lib, int, fuse_session_mount,
             (struct fuse_session * se, const char *mountpoint),
             (se, mountpoint))
DYNLIB_STUB (fuse_lib, int, fuse_session_loop, (struct fuse_session * se), (se))
DYNLIB_STUB_VOID (fuse_lib, fuse_session_exit, (struct fuse_session * se), (se))
DYNLIB_STUB_VOID (fuse_lib, fuse_session_unmount, (struct fuse_session * se),
                  (se))
DYNLIB_STUB_VOID (fuse_lib, fuse_session_destroy, (struct fuse_session * se),
                  (se))
DYNLIB_STUB_VOID (fuse_lib, fuse_opt_free_args, (struct fuse_args * args),
                  (args))
DYNLIB_STUB (fuse_lib, void *, fuse_req_userdata, (fuse_req_t req), (req))
DYNLIB_STUB (fuse_lib, int, fuse_reply_err, (fuse_req_t req, int err),
             (req, err))
DYNLIB_STUB (fuse_lib, int, fuse_reply_entry,
             (fuse_req_t req, const struct fuse_entry_param *e), (req, e))
DYNLIB_STUB (fuse_lib, int, fuse_reply_attr,
             (fuse_req_t req, const struct stat *attr, double attr_timeout),
             (req, attr, attr_timeout))
DYNLIB_STUB (fuse_lib, int, fuse_reply_readlink,
             (fuse_req_t req, const char *link), (req, link))
DYNLIB_STUB (fuse_lib, int, fuse_reply_open,
             (fuse_req_t req, const struct fuse_file_info *fi), (req, fi))
DYNLIB_STUB (fuse_lib, int, fuse_reply_buf,
             (fuse_req_t req, const char *buf, size_t size), (req, buf, size))
DYNLIB_STUB (fuse_lib, int, fuse_reply_xattr, (fuse_req_t req, size_t count),
             (req, count))
DYNLIB_STUB (fuse_lib, size_t, fuse_add_direntry,
             (fuse_req_t req, char *buf, size_t bufsize, const char *name,
              const struct stat *stbuf, off_t off),
             (req, buf, bufsize, name, stbuf, off))
