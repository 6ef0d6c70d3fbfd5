/* Placeholder until the meter lands: registers nothing. */
#include "lua_imbill.h"

void imbL_open_meter(lua_State *L) { (void)L; }
