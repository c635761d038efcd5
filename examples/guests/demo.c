// The guest of most examples: one program, the mode chosen by argv[1].
//   tcp FD        write a line to FD (a TCP stream the host inserted), print the reply
//   produce N     write N numbered lines to stdout
//   consume       count the lines on stdin, print the count
//   upper         copy stdin to stdout upper-cased; a note on stderr
//   vfs           create, list and read files under the preopen at /
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int Tcp(int fd) {
  const char msg[] = "hello over tcp\n";
  if (WriteAll(fd, msg, sizeof msg - 1) != 0) {
    printf("write to fd %d failed: %s\n", fd, strerror(errno));
    return 1;
  }
  char reply[128];
  size_t got = 0;
  while (got < sizeof reply - 1) {
    ssize_t r = read(fd, reply + got, sizeof reply - 1 - got);
    if (r < 0) {
      printf("read from fd %d failed: %s\n", fd, strerror(errno));
      return 1;
    }
    if (r == 0) break;
    got += (size_t)r;
    if (reply[got - 1] == '\n') break;
  }
  reply[got] = 0;
  printf("guest: sent \"hello over tcp\", got back \"%.*s\"\n", (int)(got ? got - 1 : 0), reply);
  return strcmp(reply, "HELLO OVER TCP\n") == 0 ? 0 : 1;
}

static int Produce(int n) {
  char line[64];
  for (int i = 0; i < n; i++) {
    int len = snprintf(line, sizeof line, "line %d of %d\n", i + 1, n);
    if (WriteAll(1, line, (size_t)len) != 0) return 1;
  }
  return 0;
}

static int Consume(void) {
  char buf[256];
  long lines = 0, bytes = 0;
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) return 1;
    if (r == 0) break;
    bytes += r;
    for (ssize_t i = 0; i < r; i++) lines += buf[i] == '\n';
  }
  printf("consumer: %ld lines, %ld bytes\n", lines, bytes);
  return 0;
}

static int Upper(void) {
  char buf[256];
  fprintf(stderr, "upper: starting\n");
  for (;;) {
    ssize_t r = read(0, buf, sizeof buf);
    if (r < 0) return 1;
    if (r == 0) break;
    for (ssize_t i = 0; i < r; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
    if (WriteAll(1, buf, (size_t)r) != 0) return 1;
  }
  fprintf(stderr, "upper: done\n");
  return 0;
}

static int Vfs(void) {
  if (mkdir("/notes", 0755) != 0) return perror("mkdir"), 1;
  const char* names[] = {"/notes/a.txt", "/notes/b.txt"};
  for (int i = 0; i < 2; i++) {
    FILE* f = fopen(names[i], "w");
    if (!f) return perror(names[i]), 1;
    fprintf(f, "note %c written by the guest\n", 'a' + i);
    fclose(f);
  }
  DIR* d = opendir("/notes");
  if (!d) return perror("opendir"), 1;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] != '.') printf("guest: ls /notes -> %s\n", e->d_name);
  }
  closedir(d);
  char line[128];
  FILE* f = fopen("/notes/b.txt", "r");
  if (!f || !fgets(line, sizeof line, f)) return perror("read b.txt"), 1;
  fclose(f);
  printf("guest: cat /notes/b.txt -> %s", line);
  f = fopen("/readme.txt", "r");
  if (!f || !fgets(line, sizeof line, f)) return perror("read readme.txt"), 1;
  fclose(f);
  printf("guest: cat /readme.txt -> %s", line);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* mode = argv[1];
  if (strcmp(mode, "tcp") == 0 && argc > 2) return Tcp(atoi(argv[2]));
  if (strcmp(mode, "produce") == 0 && argc > 2) return Produce(atoi(argv[2]));
  if (strcmp(mode, "consume") == 0) return Consume();
  if (strcmp(mode, "upper") == 0) return Upper();
  if (strcmp(mode, "vfs") == 0) return Vfs();
  return 2;
}
