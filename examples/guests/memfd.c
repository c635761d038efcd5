// Guest of host_memfd_module: asks the host module weft_memfd for an in-memory file,
// writes, seeks back and reads it.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((import_module("weft_memfd"), import_name("create")))
uint32_t weft_memfd_create(const char* name, size_t name_len, int32_t* fd_out);

int main(void) {
  const char name[] = "scratch";
  int32_t fd = -1;
  uint32_t err = weft_memfd_create(name, strlen(name), &fd);
  if (err != 0) {
    printf("guest: weft_memfd.create failed: errno %u\n", err);
    return 1;
  }
  printf("guest: weft_memfd.create(\"%s\") -> fd %d\n", name, fd);
  const char text[] = "kept in host memory";
  if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) return perror("write"), 1;
  off_t pos = lseek(fd, 8, SEEK_SET);
  if (pos != 8) return perror("lseek"), 1;
  char buf[64] = {0};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) return perror("read"), 1;
  printf("guest: after lseek(fd, 8) read %zd bytes: \"%s\"\n", n, buf);
  return strcmp(buf, "host memory") == 0 ? 0 : 1;
}
