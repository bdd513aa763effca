/*
 * Native baseline of the icount bench (bench/icount/stat.ts): instructions per read(2) of a perf
 * counter of this thread, user + kernel, counted by a second counter around the loop. Under QEMU's
 * -icount the count is exact: no noise, no repetitions needed. Same read_format as stat()
 * (count, time enabled, time running, id). Built static for arm64 by scripts/emulated/run.sh.
 * Prints one line per event: "<event> <instructions per read(2)>", and with kernel.perf_user_access
 * = 1 the same for the user-space read of instructions:u (the perf_event_mmap_page protocol with
 * `mrs` of the PMU counter and of CNTVCT_EL0): "instructions:u-user <instructions per read>".
 */
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int open_counter(uint32_t type, uint64_t config, int exclude_kernel, int disabled) {
  struct perf_event_attr a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.type = type;
  a.config = config;
  a.config1 = type == PERF_TYPE_HARDWARE && exclude_kernel ? 2 : 0; /* arm64: ask for user-space reads */
  a.disabled = disabled;
  a.exclude_kernel = exclude_kernel;
  a.exclude_hv = 1;
  a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING | PERF_FORMAT_ID;
  return (int)syscall(__NR_perf_event_open, &a, 0, -1, -1, 0);
}

static uint64_t metered(int meter, int fd, int n) {
  uint64_t buf[4], m[4];
  ioctl(meter, PERF_EVENT_IOC_RESET, 0);
  ioctl(meter, PERF_EVENT_IOC_ENABLE, 0);
  for (int i = 0; i < n; i++)
    if (read(fd, buf, sizeof buf) != sizeof buf) return 0;
  ioctl(meter, PERF_EVENT_IOC_DISABLE, 0);
  if (read(meter, m, sizeof m) != sizeof m) return 0;
  return m[0];
}

static uint64_t pmc(uint32_t i) {
  uint64_t v = 0;
#define C(n) case n: __asm__ volatile("mrs %0, pmevcntr" #n "_el0" : "=r"(v)); break;
  switch (i) { C(0) C(1) C(2) C(3) C(4) C(5) case 31: __asm__ volatile("mrs %0, pmccntr_el0" : "=r"(v)); break; }
  return v;
}

/* One user-space read: count and the clock, in the seqcount loop (what src/user_read.rs does). */
static uint64_t user_read(volatile struct perf_event_mmap_page *pc) {
  uint32_t seq;
  uint64_t count, cyc;
  do {
    seq = pc->lock;
    __asm__ volatile("" ::: "memory");
    count = pc->offset;
    if (pc->index) count += pmc(pc->index - 1);
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(cyc));
    __asm__ volatile("" ::: "memory");
  } while (pc->lock != seq);
  return count + cyc;
}

int main(void) {
  const int n = 10000;
  int meter = open_counter(PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, 0, 1);
  if (meter < 0) { perror("perf_event_open (meter: instructions, user + kernel)"); return 1; }
  struct { const char *name; uint32_t type; uint64_t config; } kinds[] = {
    { "instructions:u", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS },
    { "task-clock:u", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK },
  };
  for (unsigned k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    int fd = open_counter(kinds[k].type, kinds[k].config, 1, 0);
    if (fd < 0) { perror(kinds[k].name); return 1; }
    metered(meter, fd, 100); /* warm */
    uint64_t empty = metered(meter, fd, 0), full = metered(meter, fd, n);
    printf("%s %.1f\n", kinds[k].name, (double)(full - empty) / n);
    if (k == 0) {
      volatile struct perf_event_mmap_page *pc = mmap(0, 4096, PROT_READ, MAP_SHARED, fd, 0);
      if (pc != MAP_FAILED && pc->index && pc->cap_user_rdpmc) {
        uint64_t s = 0, m[4], base;
        ioctl(meter, PERF_EVENT_IOC_RESET, 0);
        ioctl(meter, PERF_EVENT_IOC_ENABLE, 0);
        ioctl(meter, PERF_EVENT_IOC_DISABLE, 0);
        read(meter, m, sizeof m);
        base = m[0];
        ioctl(meter, PERF_EVENT_IOC_RESET, 0);
        ioctl(meter, PERF_EVENT_IOC_ENABLE, 0);
        for (int i = 0; i < n; i++) s += user_read(pc);
        ioctl(meter, PERF_EVENT_IOC_DISABLE, 0);
        read(meter, m, sizeof m);
        printf("%s-user %.1f\n", kinds[k].name, (double)(m[0] - base) / n + (double)(s & 1) * 0);
      }
    }
    close(fd);
  }
  return 0;
}
