/* N-body simulation of five bodies (double arithmetic, sqrt).
 * Size: time steps. The checksum is the energy printed to 9 decimals,
 * which IEEE-754 doubles make identical on every conforming runtime. */
#include <math.h>

#include "common.h"

enum { kBodies = 5 };
static const double kPi = 3.141592653589793;
static const double kDaysPerYear = 365.24;

typedef struct {
  double x, y, z, vx, vy, vz, mass;
} Body;

static Body bodies[kBodies];

static void Init(void) {
  const double solar = 4 * kPi * kPi;
  /* A star and four planets with made-up but plausible orbits. */
  const double init[kBodies][7] = {
      {0, 0, 0, 0, 0, 0, 1.0},
      {4.8, -1.2, -0.1, 0.0017, 0.0077, -0.00007, 0.00095},
      {8.3, 4.1, -0.4, -0.0028, 0.0050, 0.00002, 0.00029},
      {12.9, -15.1, -0.2, 0.0030, 0.0024, -0.00003, 0.000044},
      {15.4, -25.9, 0.18, 0.0027, 0.0016, -0.00009, 0.000052},
  };
  for (int i = 0; i < kBodies; ++i) {
    bodies[i].x = init[i][0];
    bodies[i].y = init[i][1];
    bodies[i].z = init[i][2];
    bodies[i].vx = init[i][3] * kDaysPerYear;
    bodies[i].vy = init[i][4] * kDaysPerYear;
    bodies[i].vz = init[i][5] * kDaysPerYear;
    bodies[i].mass = init[i][6] * solar;
  }
  /* Cancel the system's momentum on the star. */
  double px = 0, py = 0, pz = 0;
  for (int i = 0; i < kBodies; ++i) {
    px += bodies[i].vx * bodies[i].mass;
    py += bodies[i].vy * bodies[i].mass;
    pz += bodies[i].vz * bodies[i].mass;
  }
  bodies[0].vx = -px / solar;
  bodies[0].vy = -py / solar;
  bodies[0].vz = -pz / solar;
}

static double Energy(void) {
  double e = 0;
  for (int i = 0; i < kBodies; ++i) {
    const Body* b = &bodies[i];
    e += 0.5 * b->mass * (b->vx * b->vx + b->vy * b->vy + b->vz * b->vz);
    for (int j = i + 1; j < kBodies; ++j) {
      double dx = b->x - bodies[j].x, dy = b->y - bodies[j].y, dz = b->z - bodies[j].z;
      e -= b->mass * bodies[j].mass / sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}

static void Advance(double dt) {
  for (int i = 0; i < kBodies; ++i) {
    Body* b = &bodies[i];
    for (int j = i + 1; j < kBodies; ++j) {
      Body* c = &bodies[j];
      double dx = b->x - c->x, dy = b->y - c->y, dz = b->z - c->z;
      double d2 = dx * dx + dy * dy + dz * dz;
      double mag = dt / (d2 * sqrt(d2));
      b->vx -= dx * c->mass * mag;
      b->vy -= dy * c->mass * mag;
      b->vz -= dz * c->mass * mag;
      c->vx += dx * b->mass * mag;
      c->vy += dy * b->mass * mag;
      c->vz += dz * b->mass * mag;
    }
  }
  for (int i = 0; i < kBodies; ++i) {
    bodies[i].x += dt * bodies[i].vx;
    bodies[i].y += dt * bodies[i].vy;
    bodies[i].z += dt * bodies[i].vz;
  }
}

int main(int argc, char** argv) {
  int64_t steps = BenchSize(argc, argv, 5500000);
  Init();
  double before = Energy();
  for (int64_t s = 0; s < steps; ++s) Advance(0.01);
  printf("checksum: %.9f %.9f\n", before, Energy());
  return 0;
}
