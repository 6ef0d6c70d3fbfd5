#include "core.h"

const char *imb_strerror(imb_status s) {
  switch (s) {
  case IMB_OK: return "ok";
  case IMB_ESYNTAX: return "malformed";
  case IMB_ERANGE: return "out of range";
  case IMB_EOVERFLOW: return "does not fit in 64 bits";
  case IMB_ESCALE: return "more than 6 decimal places";
  case IMB_ENOMEM: return "out of memory";
  case IMB_EIO: return "input/output error";
  case IMB_ECORRUPT: return "corrupt or foreign file";
  case IMB_ESTATE: return "not allowed now";
  case IMB_ESTOPPED: return "stopped by the caller";
  case IMB_STATUS_COUNT: break;
  }
  return "unknown status";
}
