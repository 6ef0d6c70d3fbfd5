/* Included by every file of the core: the public interface, and the rule
 * that keeps everything else private.  Internal headers bracket their
 * declarations with the visibility pragma (luasocket's way), so the shared
 * object exports the functions of include/imbill.h and nothing more,
 * whatever flags a build passes. */
#ifndef IMB_CORE_H
#define IMB_CORE_H

#include "imbill.h"

#include <string.h>

#if defined(__GNUC__)
#define IMB_HIDDEN_BEGIN _Pragma("GCC visibility push(hidden)")
#define IMB_HIDDEN_END _Pragma("GCC visibility pop")
#else
#define IMB_HIDDEN_BEGIN
#define IMB_HIDDEN_END
#endif

#endif
