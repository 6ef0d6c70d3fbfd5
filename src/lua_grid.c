/* Placeholder until the what-if grid lands: registers nothing. */
#include "lua_imbill.h"

void imbL_open_grid(lua_State *L) { (void)L; }
