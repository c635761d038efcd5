// Placeholder until the CLI lands.
#include <cstdio>
int main() { std::fprintf(stderr, "weft: not built yet\n"); return 1; }
