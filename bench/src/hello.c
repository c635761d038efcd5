/* Start-up probe: the smallest WASI program that prints. */
#include <stdio.h>

int main(void) {
  printf("hello, weft\n");
  return 0;
}
