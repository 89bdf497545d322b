/* Writing zstd:chunked's tar-split: the JSON lines that tarsplit.c walks
 * (format there). The caller passes the tar's bytes between files as they
 * come, and each file when its content has passed; the lines gather in
 * memory (about a hundred bytes a file) until the layer's end. */
#ifndef IMGTOOL_TARSPLIT_H
#define IMGTOOL_TARSPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

struct tarsplit_writer
{
  struct strbuf lines; /* the JSON lines so far */
  struct strbuf seg;   /* raw bytes of the segment being gathered */
  int64_t pos;
};

void tarsplit_init (struct tarsplit_writer *w);
void tarsplit_release (struct tarsplit_writer *w);
/* Tar bytes between files: headers, padding, the end blocks. */
void tarsplit_raw (struct tarsplit_writer *w, const void *p, size_t n);
/* A tar entry (any type; size 0 but for regular files) whose content, if
 * any, has just passed; crc is tarsplit_crc64 over it. The raw bytes
 * gathered before it go first, as a segment. */
void tarsplit_file (struct tarsplit_writer *w, const char *name, uint64_t size,
                    uint64_t crc);
/* The end of the tar: the last raw bytes, as a segment. */
void tarsplit_end (struct tarsplit_writer *w);
/* tar-split checks file contents with CRC-64/ISO (start with 0). */
uint64_t tarsplit_crc64 (uint64_t crc, const uint8_t *p, size_t n);

#endif
