/* Files replaced whole and files read whole: what saving and loading a meter
 * need of the file system, apart from the format (meter_file.c).
 *
 * A replacement goes through a temporary file in the target's directory,
 * unnamed (O_TMPFILE) where the system has them, else created exclusively
 * under an unpredictable name; it is written with every write checked,
 * synced, renamed over the target, and the directory synced.  So the target
 * always holds its old content or the new, and a crash leaves no temporary
 * file (or one the next replacement of the same target removes). */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* O_TMPFILE */
#endif
#include "safe_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMP_TAG ".imbtmp-"

void imb_file_why(imb_file_error *err, int sys, const char *fmt, ...) {
  if (!err) return;
  va_list ap;
  va_start(ap, fmt);
  err->sys = sys;
  vsnprintf(err->why, sizeof err->why, fmt, ap);
  va_end(ap);
}

static uint64_t fnv1a(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

static int write_all(int fd, const unsigned char *p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (w == 0) {
      /* a regular file that takes nothing has no room left */
      errno = ENOSPC;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static const char *kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

static void refuse_kind(imb_file_error *err, mode_t mode) {
  if (S_ISDIR(mode)) imb_file_why(err, EISDIR, "is a directory");
  else imb_file_why(err, 0, "is %s, not a regular file", kind_of(mode));
}

static uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

/* Temporary names need not be secret (they are created exclusively), only
 * hard to guess ahead: the kernel's random bytes when they can be read,
 * mixed with the time, the process and the attempt. */
static uint64_t random64(unsigned attempt) {
  uint64_t r = 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    unsigned char x[8];
    if (read(fd, x, 8) == 8)
      for (int i = 0; i < 8; i++) r = (r << 8) | x[i];
    close(fd);
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t local = (uint64_t)(uintptr_t)&ts;
  return mix64(r ^ mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30)) ^
               mix64((uint64_t)getpid() * 0x9E3779B97F4A7C15ull + attempt) ^ local);
}

/* ".<name>.imbtmp-<8 hex of the name's hash>-": what every temporary file
 * of one target starts with.  The name is cut so the whole stays within
 * NAME_MAX; the hash keeps two long names with the same start apart. */
#define TMP_NAME_KEEP 200
static size_t tmp_prefix(const char *base, char *out, size_t cap) {
  size_t blen = strlen(base), keep = blen < TMP_NAME_KEEP ? blen : TMP_NAME_KEEP;
  uint32_t h = (uint32_t)(fnv1a((const unsigned char *)base, blen) >> 32);
  int n = snprintf(out, cap, ".%.*s" TMP_TAG "%08lx-", (int)keep, base, (unsigned long)h);
  return n < 0 ? 0 : (size_t)n;
}
#define TMP_NAME_CAP (TMP_NAME_KEEP + 64)
#define TMP_RANDOM_HEX 16

static int is_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}

/* Temporary files an interrupted save of this target left (a kill between
 * creating and renaming one).  A save running at the same time in another
 * process may lose its temporary file here: that save then fails, and the
 * target still holds one whole state. */
static void remove_stale(int dfd, const char *prefix, size_t plen) {
  int fd = dup(dfd);
  if (fd < 0) return;
  DIR *d = fdopendir(fd);
  if (!d) {
    close(fd);
    return;
  }
  /* rewinddir: the duplicate shares the directory's offset */
  rewinddir(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n == plen + TMP_RANDOM_HEX && memcmp(e->d_name, prefix, plen) == 0 &&
        is_hex(e->d_name + plen, TMP_RANDOM_HEX))
      unlinkat(dfd, e->d_name, 0);
  }
  closedir(d);
}

/* Creates a temporary file in dfd: an unnamed one where the kernel can, so a
 * crash leaves nothing; else a named one, exclusively (O_EXCL refuses a name
 * that exists, symbolic link or not).  *named says which. */
static int create_temp(int dfd, const char *prefix, size_t plen, mode_t mode, int try_unnamed, char *name,
                       int *named, int *sys) {
#ifdef O_TMPFILE
  if (try_unnamed) {
    int fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
    if (fd >= 0) {
      *named = 0;
      return fd;
    }
    /* no support (old kernel, or a file system without it): the named way */
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL && errno != ENOENT) {
      *sys = errno;
      return -1;
    }
  }
#else
  (void)try_unnamed;
#endif
  *named = 1;
  for (unsigned attempt = 0; attempt < 64; attempt++) {
    memcpy(name, prefix, plen);
    snprintf(name + plen, TMP_RANDOM_HEX + 1, "%016llx", (unsigned long long)random64(attempt));
    int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0) return fd;
    if (errno != EEXIST) break;
  }
  *sys = errno;
  return -1;
}

/* Gives the unnamed file fd a temporary name in dfd, so it can be renamed
 * over the target (linkat cannot replace a file).  0 on success. */
static int name_temp(int fd, int dfd, const char *prefix, size_t plen, char *name) {
#ifdef O_TMPFILE
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  for (unsigned attempt = 0; attempt < 64; attempt++) {
    memcpy(name, prefix, plen);
    snprintf(name + plen, TMP_RANDOM_HEX + 1, "%016llx", (unsigned long long)random64(attempt));
    if (linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW) == 0) return 0;
    if (errno != EEXIST) return -1;
  }
#else
  (void)fd;
  (void)dfd;
  (void)prefix;
  (void)plen;
  (void)name;
#endif
  return -1;
}

/* Splits path into its directory (".", "/" or the part before the last
 * slash) and its last component, in place. */
static const char *split_path(char *path, const char **dir) {
  char *slash = strrchr(path, '/');
  if (!slash) {
    *dir = ".";
    return path;
  }
  *slash = 0;
  *dir = slash == path ? "/" : path;
  return slash + 1;
}

/* Writes the data to the temporary file, gives it the target's permission
 * bits (and owner, where the process may) and syncs it.  0, or -1 with err. */
static int fill(int fd, const unsigned char *data, size_t len, const struct stat *target, imb_file_error *err) {
  if (write_all(fd, data, len)) {
    imb_file_why(err, errno, "cannot write the temporary file");
    return -1;
  }
  if (target) {
    if (fchmod(fd, target->st_mode & 0777)) {
      imb_file_why(err, errno, "cannot give the temporary file the target's permissions");
      return -1;
    }
    if ((target->st_uid != geteuid() || target->st_gid != getegid()) &&
        fchown(fd, target->st_uid, target->st_gid) != 0) {
      /* only root may give a file away: then the owner is this process */
    }
  }
  if (fsync(fd)) {
    imb_file_why(err, errno, "cannot sync the temporary file");
    return -1;
  }
  return 0;
}

/* See safe_file.h.  The steps, in order, are what docs/meter.md promises. */
imb_status imb_file_replace(char *tpath, const unsigned char *data, size_t len, int follow_links,
                            const imb_save_opts *opts, imb_file_error *err) {
  struct stat st;
  int exists = 0;
  char *resolved = NULL;
  imb_status st_ret = IMB_EIO;
  if (lstat(tpath, &st) == 0) {
    exists = 1;
    if (S_ISLNK(st.st_mode) && !follow_links) {
      imb_file_why(err, 0, "is a symbolic link (a link is never written through)");
      return IMB_EIO;
    }
    if (S_ISLNK(st.st_mode)) {
      /* follow the link: the file it names is replaced and the link stays */
      resolved = realpath(tpath, NULL);
      if (!resolved) {
        imb_file_why(err, errno, "is a symbolic link that cannot be followed");
        return IMB_EIO;
      }
      if (lstat(resolved, &st) != 0) {
        imb_file_why(err, errno, "is a symbolic link to %s", resolved);
        free(resolved);
        return IMB_EIO;
      }
      tpath = resolved;
    }
    if (!S_ISREG(st.st_mode)) {
      refuse_kind(err, st.st_mode);
      free(resolved);
      return IMB_EIO;
    }
  } else if (errno != ENOENT) {
    imb_file_why(err, errno, "cannot look the file up");
    return IMB_EIO;
  }
  size_t tlen = strlen(tpath);
  if (tlen && tpath[tlen - 1] == '/') {
    imb_file_why(err, EISDIR, "names a directory");
    free(resolved);
    return IMB_EIO;
  }
  const char *dir;
  const char *base = split_path(tpath, &dir);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    imb_file_why(err, errno, "cannot open its directory");
    free(resolved);
    return IMB_EIO;
  }
  /* looked up again through the directory actually written to */
  struct stat cur;
  if (fstatat(dfd, base, &cur, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISREG(cur.st_mode)) {
      refuse_kind(err, cur.st_mode);
      goto out;
    }
    st = cur;
    exists = 1;
  } else if (errno != ENOENT) {
    imb_file_why(err, errno, "cannot look the file up");
    goto out;
  } else {
    exists = 0;
  }
  char prefix[TMP_NAME_CAP], name[TMP_NAME_CAP + TMP_RANDOM_HEX + 1];
  size_t plen = tmp_prefix(base, prefix, sizeof prefix);
  int named = 0, sys = 0;
  /* an existing file's permission bits are set once the data is written; a
   * new file gets what the process's umask allows */
  int fd = create_temp(dfd, prefix, plen, exists ? 0600 : 0666, !(opts && opts->named_temp), name, &named, &sys);
  if (fd < 0) {
    imb_file_why(err, sys, "cannot create a temporary file in %s", dir);
    goto out;
  }
  if (opts && opts->crash_after >= 0) {
    /* a test's stand-in for a crash: part of the data, then nothing more */
    size_t n = (uint64_t)opts->crash_after < len ? (size_t)opts->crash_after : len;
    int e = write_all(fd, data, n) ? errno : 0;
    close(fd);
    imb_file_why(err, e, "stopped after %zu bytes of the temporary file (crash_after)", n);
    goto out;
  }
  if (fill(fd, data, len, exists ? &st : NULL, err)) goto fail_fd;
  if (!named) {
    if (name_temp(fd, dfd, prefix, plen, name) != 0) {
      /* no /proc, or linkat refused: write it again under a name */
      close(fd);
      fd = create_temp(dfd, prefix, plen, exists ? 0600 : 0666, 0, name, &named, &sys);
      if (fd < 0) {
        imb_file_why(err, sys, "cannot create a temporary file in %s", dir);
        goto out;
      }
      if (fill(fd, data, len, exists ? &st : NULL, err)) goto fail_fd;
    }
    named = 1;
  }
  if (close(fd)) {
    fd = -1;
    imb_file_why(err, errno, "cannot close the temporary file");
    goto fail_named;
  }
  fd = -1;
  if (renameat(dfd, name, dfd, base)) {
    imb_file_why(err, errno, "cannot rename the temporary file over it");
    goto fail_named;
  }
  remove_stale(dfd, prefix, plen);
  /* the rename itself is durable only once the directory is synced; a file
   * system that cannot sync a directory (EINVAL) has nothing to sync */
  if (fsync(dfd) && errno != EINVAL) {
    imb_file_why(err, errno, "saved, but syncing its directory failed (the new state may not survive a power loss)");
    goto out;
  }
  st_ret = IMB_OK;
  goto out;
fail_fd:
  if (fd >= 0) close(fd);
fail_named:
  if (named) unlinkat(dfd, name, 0);
out:
  close(dfd);
  free(resolved);
  return st_ret;
}

imb_status imb_file_path(const char *path, size_t pathlen, char **out, imb_file_error *err) {
  if (!path || pathlen == 0) {
    imb_file_why(err, 0, "the path is empty");
    return IMB_ERANGE;
  }
  if (memchr(path, 0, pathlen)) {
    imb_file_why(err, 0, "the path contains a NUL byte");
    return IMB_ERANGE;
  }
  if (pathlen >= PATH_MAX) {
    imb_file_why(err, ENAMETOOLONG, "the path is %zu bytes long", pathlen);
    return IMB_EIO;
  }
  *out = malloc(pathlen + 1);
  if (!*out) {
    imb_file_why(err, 0, "out of memory");
    return IMB_ENOMEM;
  }
  memcpy(*out, path, pathlen);
  (*out)[pathlen] = 0;
  return IMB_OK;
}

/* Looked at before it is opened: opening a FIFO waits for a writer, and a
 * device may do something when opened.  Looked at again once open: it may
 * have been swapped in between. */
imb_status imb_file_open_regular(const char *path, int *fd, uint64_t *size, imb_file_error *err) {
  struct stat sb;
  *fd = -1;
  if (stat(path, &sb) != 0) {
    imb_file_why(err, errno, "cannot open");
    return IMB_EIO;
  }
  if (!S_ISREG(sb.st_mode)) {
    refuse_kind(err, sb.st_mode);
    return IMB_EIO;
  }
  int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (f < 0) {
    imb_file_why(err, errno, "cannot open");
    return IMB_EIO;
  }
  if (fstat(f, &sb) != 0) {
    imb_file_why(err, errno, "cannot read");
    close(f);
    return IMB_EIO;
  }
  if (!S_ISREG(sb.st_mode)) {
    refuse_kind(err, sb.st_mode);
    close(f);
    return IMB_EIO;
  }
  *fd = f;
  *size = sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
  return IMB_OK;
}

ssize_t imb_file_read(int fd, unsigned char *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t k = read(fd, p + got, n - got);
    if (k < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (k == 0) break;
    got += (size_t)k;
  }
  return (ssize_t)got;
}

imb_status imb_file_write(const char *path, size_t pathlen, const void *data, size_t len, imb_file_error *err) {
  if (err) {
    err->sys = 0;
    err->why[0] = 0;
  }
  if (!data && len) {
    imb_file_why(err, 0, "no data");
    return IMB_ERANGE;
  }
  char *p = NULL;
  imb_status st = imb_file_path(path, pathlen, &p, err);
  if (st) return st;
  st = imb_file_replace(p, data ? data : (const void *)"", len, 0, NULL, err);
  free(p);
  return st;
}

