// Guest of shared_handle_two_instances, a reactor: the host calls put(fd, n) to make it
// write one line "<tag> n\n" to fd, where tag comes from the environment TAG.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((export_name("put"))) int put(int fd, int n) {
  const char* tag = getenv("TAG");
  char line[64];
  int len = snprintf(line, sizeof line, "%s %d\n", tag ? tag : "?", n);
  ssize_t w = write(fd, line, (size_t)len);
  return w == len ? 0 : errno;
}
