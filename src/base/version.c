/*
 * version.c — the version and the git commit this binary was built from
 * (`ctng --version`, ctng_build_info in /metrics). CTNG_VERSION comes from
 * the CMake project version; ctng_build_commit.h is written at every build
 * by cmake/build_commit.cmake.
 */
#include "ctng/base.h"
#include "ctng_build_commit.h"

#ifndef CTNG_VERSION
#define CTNG_VERSION "0.0.0"
#endif

const char *ctng_version(void)
{
	return CTNG_VERSION;
}

const char *ctng_build_commit(void)
{
	return CTNG_BUILD_COMMIT;
}
