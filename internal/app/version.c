/* The one place the version enters the program: the Makefile compiles this file alone with
 * -DHAAT_VERSION='"<git describe>"' and recompiles it whenever build/<mode>/version.txt
 * changes (every commit), so the binary relinks with the new version. There is deliberately
 * no fallback: built any other way, this file does not compile. */
#include "internal/app/version.h"

const char *app_version(void)
{
    return HAAT_VERSION;
}
