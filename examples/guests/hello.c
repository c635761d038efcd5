// The demo guest: greets, shows its arguments and environment, and reads a file from
// the directory preopened at /data (run with --dir examples/guests::/data).
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  printf("Hello from a WASI guest running on weft!\n");
  for (int i = 0; i < argc; i++) printf("argv[%d] = %s\n", i, argv[i]);
  const char* who = getenv("WHO");
  if (who) printf("WHO = %s\n", who);

  FILE* f = fopen("/data/greeting.txt", "r");
  if (!f) {
    perror("/data/greeting.txt");
    return 1;
  }
  char line[256];
  while (fgets(line, sizeof line, f)) printf("greeting.txt: %s", line);
  fclose(f);
  return 0;
}
