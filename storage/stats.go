package storage

import (
	"math"
	"sync/atomic"
	"time"
)

// The commit histograms: how many records each successful group commit
// carried, and how long its bbolt transaction took (writes plus the two
// fsyncs, which dominate it). They are plain atomics so that the committer
// never waits on a metrics library; the server exports them to Prometheus.

// CommitBatchBounds are the upper bounds of the batch size buckets (records).
var CommitBatchBounds = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384}

// CommitDurationBounds are the upper bounds of the commit latency buckets (seconds).
var CommitDurationBounds = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

type histogram struct {
	counts []atomic.Uint64 // one per bound, plus +Inf
	sum    atomic.Uint64   // float64 bits
}

func newHistogram(n int) histogram { return histogram{counts: make([]atomic.Uint64, n+1)} }

func (h *histogram) observe(bounds []float64, v float64) {
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// snapshot returns cumulative counts per bound, the total count and the sum.
func (h *histogram) snapshot() (cum []uint64, count uint64, sum float64) {
	cum = make([]uint64, len(h.counts)-1)
	for i := range h.counts {
		count += h.counts[i].Load()
		if i < len(cum) {
			cum[i] = count
		}
	}
	return cum, count, math.Float64frombits(h.sum.Load())
}

// commitObserver is the committer's pair of histograms; its zero value is
// ready (the buckets are made on first use).
type commitObserver struct {
	init     atomic.Bool
	batch    histogram
	duration histogram
	failed   atomic.Uint64
}

func (o *commitObserver) ready() {
	if !o.init.Load() {
		// Only the committer goroutine observes, so this runs once, before
		// any snapshot can see init set.
		o.batch = newHistogram(len(CommitBatchBounds))
		o.duration = newHistogram(len(CommitDurationBounds))
		o.init.Store(true)
	}
}

// observe records one commit of n records that took d.
func (o *commitObserver) observe(n int, d time.Duration, err error) {
	o.ready()
	if err != nil {
		o.failed.Add(1)
		return
	}
	o.batch.observe(CommitBatchBounds, float64(n))
	o.duration.observe(CommitDurationBounds, d.Seconds())
}

// HistogramSnapshot is one histogram's state: cumulative counts per bound.
type HistogramSnapshot struct {
	Bounds     []float64
	Cumulative []uint64
	Count      uint64
	Sum        float64
}

// CommitHistograms are the commit path's histograms since Open.
type CommitHistograms struct {
	// Batch is the number of records per successful commit.
	Batch HistogramSnapshot
	// Duration is the seconds each successful commit's bbolt transaction
	// (including its fsyncs) took.
	Duration HistogramSnapshot
	// Failed counts commits that failed (and are being retried).
	Failed uint64
}

// CommitHistograms returns the commit histograms.
func (s *Store) CommitHistograms() CommitHistograms {
	o := &s.com.obs
	out := CommitHistograms{
		Batch:    HistogramSnapshot{Bounds: CommitBatchBounds, Cumulative: make([]uint64, len(CommitBatchBounds))},
		Duration: HistogramSnapshot{Bounds: CommitDurationBounds, Cumulative: make([]uint64, len(CommitDurationBounds))},
		Failed:   o.failed.Load(),
	}
	if !o.init.Load() {
		return out
	}
	out.Batch.Cumulative, out.Batch.Count, out.Batch.Sum = o.batch.snapshot()
	out.Duration.Cumulative, out.Duration.Count, out.Duration.Sum = o.duration.snapshot()
	return out
}
