/* Status codes shared by every part of the core.  The core never allocates error
 * strings: callers map a code to a fixed message with imb_strerror(). */
#ifndef IMB_STATUS_H
#define IMB_STATUS_H

#if defined(__GNUC__)
#define IMB_API __attribute__((visibility("default")))
#else
#define IMB_API
#endif

typedef enum imb_status {
  IMB_OK = 0,
  IMB_ESYNTAX,    /* text does not follow the grammar (money, date, month) */
  IMB_ERANGE,     /* a value is outside its domain (negative count, month 13) */
  IMB_EOVERFLOW,  /* the result does not fit in 64 bits */
  IMB_ESCALE,     /* more decimal places than the fixed scale holds */
  IMB_ENOMEM,
  IMB_EIO,
  IMB_ECORRUPT,   /* a saved file failed its checks */
  IMB_ESTATE      /* the call is not allowed in the object's current state */
} imb_status;

IMB_API const char *imb_strerror(imb_status s);

#endif
