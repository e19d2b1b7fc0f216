/*
 * K independent M/M/1 queues in a minimal C event loop: the lower-bound peer of
 * qoesim's Benchmarks/scenarios/mm1-k100.
 *
 * What it does per event is the least any discrete-event simulator must do: pop the
 * earliest event from a binary heap (ordered by time, then by scheduling order, as
 * qoesim does), draw an exponential variate (xoshiro256** and log, as qoesim does), push
 * the next event, and count a FIFO queue and a response-time sum. No per-event
 * allocation: each queue keeps a ring buffer of arrival times, grown by doubling.
 *
 * Build and run: cc -O2 -o mm1_c mm1_c.c -lm && ./mm1_c 100 10000
 * Prints one JSON line: jobs, wall seconds, jobs per wall second, pooled mean response
 * time (theory: 1/(MU - LAMBDA) = 0.5 s).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define LAMBDA 8.0
#define MU 10.0

typedef struct { double time; uint64_t seq; int32_t queue; int32_t kind; } Event;
typedef struct { uint64_t s[4]; } Rng;
typedef struct { double *arrivals; size_t head, count, capacity; int busy; Rng arrival, service; } Queue;

static Event *heap;
static size_t heap_n;
static uint64_t next_seq;

static inline int precedes(const Event *a, const Event *b) {
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void push(double time, int32_t queue, int32_t kind) {
    Event e = {time, next_seq++, queue, kind};
    size_t i = heap_n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!precedes(&e, &heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = e;
}

static Event pop(void) {
    Event top = heap[0];
    Event last = heap[--heap_n];
    size_t i = 0, n = heap_n;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && precedes(&heap[child + 1], &heap[child])) child++;
        if (!precedes(&heap[child], &last)) break;
        heap[i] = heap[child];
        i = child;
    }
    heap[i] = last;
    return top;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t next_u64(Rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static inline double exponential(Rng *r, double mean) {
    return -mean * log((double)((next_u64(r) >> 11) + 1) * 0x1.0p-53);
}

static void seed(Rng *r, uint64_t x) {
    for (int i = 0; i < 4; i++) { /* splitmix64 */
        uint64_t z = (x += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        r->s[i] = z ^ (z >> 31);
    }
}

int main(int argc, char **argv) {
    int k = argc > 1 ? atoi(argv[1]) : 100;
    double horizon = argc > 2 ? atof(argv[2]) : 10000.0;
    Queue *queues = calloc((size_t)k, sizeof(Queue));
    heap = malloc(sizeof(Event) * 2 * (size_t)k);
    for (int q = 0; q < k; q++) {
        queues[q].capacity = 64;
        queues[q].arrivals = malloc(sizeof(double) * 64);
        seed(&queues[q].arrival, 1000 + 2 * (uint64_t)q);
        seed(&queues[q].service, 1001 + 2 * (uint64_t)q);
        push(exponential(&queues[q].arrival, 1 / LAMBDA), q, 0);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t jobs = 0, events = 0;
    double response_sum = 0;
    while (heap_n > 0 && heap[0].time <= horizon) {
        Event e = pop();
        events++;
        Queue *q = &queues[e.queue];
        if (e.kind == 0) { /* arrival */
            if (q->count == q->capacity) { /* grow the ring (rare; amortized) */
                double *grown = malloc(sizeof(double) * q->capacity * 2);
                for (size_t i = 0; i < q->count; i++) grown[i] = q->arrivals[(q->head + i) % q->capacity];
                free(q->arrivals);
                q->arrivals = grown; q->head = 0; q->capacity *= 2;
            }
            q->arrivals[(q->head + q->count) % q->capacity] = e.time;
            q->count++;
            if (!q->busy) { q->busy = 1; push(e.time + exponential(&q->service, 1 / MU), e.queue, 1); }
            push(e.time + exponential(&q->arrival, 1 / LAMBDA), e.queue, 0);
        } else { /* departure of the head of the queue */
            response_sum += e.time - q->arrivals[q->head];
            q->head = (q->head + 1) % q->capacity;
            q->count--;
            jobs++;
            if (q->count > 0) push(e.time + exponential(&q->service, 1 / MU), e.queue, 1);
            else q->busy = 0;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("{\"system\": \"c\", \"queues\": %d, \"simulated_s\": %.1f, \"jobs\": %llu, \"events\": %llu, "
           "\"wall_s\": %.4f, \"jobs_per_s\": %.1f, \"mean_response_s\": %.4f}\n",
           k, horizon, (unsigned long long)jobs, (unsigned long long)events, wall, (double)jobs / wall,
           response_sum / (double)jobs);
    return 0;
}
