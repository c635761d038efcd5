// Pipeline test stages, chosen by argv[1]:
//   cat      stdin to stdout          upper   stdin to stdout upper-cased
//   wcl      print the number of lines on stdin
//   lines N  print N lines "line k"  exit N  read all stdin, exit with status N
//   trap     write "partial\n" and a note on stderr, then hit `unreachable`
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* mode = argv[1];
  char buf[4096];
  ssize_t r;
  if (strcmp(mode, "lines") == 0 && argc > 2) {
    for (int k = 1; k <= atoi(argv[2]); k++) printf("line %d\n", k);
    return 0;
  }
  if (strcmp(mode, "trap") == 0) {
    printf("partial\n");
    fflush(stdout);
    fprintf(stderr, "about to trap\n");
    __builtin_trap();
  }
  long lines = 0;
  while ((r = read(0, buf, sizeof buf)) > 0) {
    if (strcmp(mode, "upper") == 0) {
      for (ssize_t i = 0; i < r; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
    }
    if (strcmp(mode, "cat") == 0 || strcmp(mode, "upper") == 0) {
      for (ssize_t off = 0; off < r;) {
        ssize_t w = write(1, buf + off, (size_t)(r - off));
        if (w < 0) return 3;
        off += w;
      }
    }
    for (ssize_t i = 0; i < r; i++) lines += buf[i] == '\n';
  }
  if (r < 0) return 4;
  if (strcmp(mode, "wcl") == 0) printf("%ld\n", lines);
  if (strcmp(mode, "exit") == 0 && argc > 2) return atoi(argv[2]);
  return 0;
}
