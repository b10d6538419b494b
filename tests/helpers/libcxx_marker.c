/* Preloaded before gcstats, this makes a node look as if it were built
 * against libc++: it exports std::__1::cout's name, which gcstats looks
 * for before it reads V8's heap profiles (their std::vectors are read as
 * libstdc++ lays them out). gcstats must then turn culprits off with one
 * error line and go on with the rest. */
int _ZNSt3__14coutE;
