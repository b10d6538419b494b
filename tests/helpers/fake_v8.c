/* A program that looks like a node whose V8 is incomplete: it exports
 * v8::V8::GetVersion(), the first symbol gcstats binds, and none of the
 * others. Under the preload gcstats must say which symbol is missing in
 * one error line and otherwise leave the program alone: same output, same
 * exit status. Built with its symbols exported (export_dynamic) so that
 * dlsym(RTLD_DEFAULT) finds this one, as it finds node's. */
#include <stdio.h>

/* v8::V8::GetVersion(), by its mangled name (C has no namespaces). */
const char *_ZN2v82V810GetVersionEv(void);

const char *_ZN2v82V810GetVersionEv(void)
{
    return "12.4.254.21-fake";
}

int main(void)
{
    printf("fake v8 %s\n", _ZN2v82V810GetVersionEv());
    fprintf(stderr, "to stderr\n");
    return 3;
}
