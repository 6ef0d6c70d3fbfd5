/* Files replaced whole and read whole (safe_file.c), for meter_file.c. */
#ifndef IMB_SAFE_FILE_H
#define IMB_SAFE_FILE_H

#include "core.h"

#include <sys/types.h>

IMB_HIDDEN_BEGIN

#if defined(__GNUC__)
#define IMB_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define IMB_PRINTF_LIKE(f, a)
#endif

/* Sets err (when not NULL): the errno, or 0, and the formatted reason. */
void imb_file_why(imb_file_error *err, int sys, const char *fmt, ...) IMB_PRINTF_LIKE(3, 4);

/* A NUL-terminated copy of the pathlen bytes at path; an empty path, or one
 * with a NUL byte inside, is IMB_ERANGE (never cut short at the NUL). */
imb_status imb_file_path(const char *path, size_t pathlen, char **out, imb_file_error *err);

/* Replaces the regular file at path with the len bytes at data, keeping its
 * permission bits, so that it holds its old content or the new whatever
 * happens.  A link to a regular file: the file it names when follow_links,
 * else refused; no file: a new one, 0666 less the umask; anything else is
 * refused.  path is changed in place.  On failure nothing is left behind and
 * the file is untouched. */
imb_status imb_file_replace(char *path, const unsigned char *data, size_t len, int follow_links,
                            const imb_save_opts *opts, imb_file_error *err);

/* Opens path for reading when it is a regular file, never opening anything
 * else; *size is its size. */
imb_status imb_file_open_regular(const char *path, int *fd, uint64_t *size, imb_file_error *err);

/* Reads up to n bytes, fewer only at the end of the file; -1 (errno) on error. */
ssize_t imb_file_read(int fd, unsigned char *p, size_t n);

IMB_HIDDEN_END

#endif
