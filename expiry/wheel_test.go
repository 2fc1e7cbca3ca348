package expiry

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	base      = int64(1_700_000_000_000) // a realistic unix ms "now"
	year      = int64(365 * 24 * 3600 * 1000)
	year9999  = int64(253402300799000) // 9999-12-31T23:59:59Z
	maxLevels = numLevels              // each timer cascades at most once per level
)

// collect advances w to now without limit and returns the fired timers.
func collect[K any](w *Wheel[K], now int64) []*Timer[K] {
	var out []*Timer[K]
	w.Advance(now, 0, func(t *Timer[K]) { out = append(out, t) })
	return out
}

// interesting returns deadline offsets around every level boundary.
func interesting() []int64 {
	offs := []int64{1, 2, 3, 100, 254, 255, 256, 257, 300, 1000}
	for shift := uint(level0Bits); shift < 62; shift += levelNBits {
		b := int64(1) << shift
		offs = append(offs, b-1, b, b+1, 3*b-1, 3*b, 3*b+7)
	}
	return offs
}

// Ensure that a timer fires exactly at its deadline and not one millisecond before, at every level.
func TestWheel_FiresExactlyAtDeadline(t *testing.T) {
	for _, start := range []int64{0, base, base + 255, base + 12345, -5000, math.MinInt64 + 1} {
		for _, off := range interesting() {
			if start > math.MaxInt64-off {
				continue
			}
			w := New[int](start)
			d := start + off
			tm := w.Add(1, d)
			require.Equal(t, d, tm.Deadline())
			require.True(t, tm.Scheduled())
			require.Empty(t, collect(w, d-1), "start=%d off=%d fired early", start, off)
			require.True(t, tm.Scheduled())
			require.Equal(t, 1, w.Len())
			fired := collect(w, d)
			require.Equal(t, []*Timer[int]{tm}, fired, "start=%d off=%d", start, off)
			require.False(t, tm.Scheduled())
			require.Equal(t, 0, w.Len())
			require.Equal(t, d, w.Now())
		}
	}
}

// Ensure that a timer fires exactly at its deadline when time moves one millisecond at a time.
func TestWheel_FiresExactlyAtDeadlineStepping(t *testing.T) {
	w := New[int64](base)
	offs := []int64{1, 2, 255, 256, 257, 511, 512, 513, 16383, 16384, 16385, 20000}
	for _, o := range offs {
		w.Add(base+o, base+o)
	}
	for now := base + 1; now <= base+20000; now++ {
		fired := collect(w, now)
		want := 0
		if slices.Contains(offs, now-base) {
			want = 1
		}
		require.Len(t, fired, want, "at +%d", now-base)
		for _, f := range fired {
			require.Equal(t, now, f.Key)
		}
	}
	require.Equal(t, 0, w.Len())
}

// Ensure that deadlines at or before the current time fire on the next Advance, even one that does not move time.
func TestWheel_PastDeadlinesFireOnNextAdvance(t *testing.T) {
	w := New[string](base)
	a := w.Add("past", base-1000)
	b := w.Add("now", base)
	c := w.Add("ancient", math.MinInt64)
	d := w.Add("future", base+1)
	require.Equal(t, 4, w.Len())

	fired := collect(w, base)
	require.ElementsMatch(t, []*Timer[string]{a, b, c}, fired)
	require.True(t, d.Scheduled())
	require.Equal(t, 1, w.Len())

	// A smaller time than Now still fires what became due.
	w2 := New[string](base)
	e := w2.Add("e", base-5)
	require.Equal(t, []*Timer[string]{e}, collect(w2, 0))
	require.Equal(t, base, w2.Now())
}

// Ensure that Advance never moves time backwards and a smaller time fires nothing that is not yet due.
func TestWheel_TimeOnlyMovesForward(t *testing.T) {
	w := New[int](base)
	tm := w.Add(1, base+500)
	require.Empty(t, collect(w, base+100))
	require.Empty(t, collect(w, base-10_000))
	require.Equal(t, base+100, w.Now())
	require.True(t, tm.Scheduled())
	// Adding relative to the current time still uses the latest time.
	p := w.Add(2, base+50)
	require.Equal(t, []*Timer[int]{p}, collect(w, base))
	require.Equal(t, []*Timer[int]{tm}, collect(w, base+500))
}

// Ensure that Stop prevents firing, reports whether the timer was scheduled, and updates Len.
func TestWheel_StopPreventsFiring(t *testing.T) {
	for _, off := range interesting() {
		w := New[int](base)
		keep := w.Add(1, base+off)
		gone := w.Add(2, base+off)
		past := w.Add(3, base-1)
		require.True(t, w.Stop(gone))
		require.False(t, gone.Scheduled())
		require.False(t, w.Stop(gone))
		require.True(t, w.Stop(past))
		require.Equal(t, 1, w.Len())
		require.Equal(t, []*Timer[int]{keep}, collect(w, base+off), "off=%d", off)
		require.False(t, w.Stop(keep), "fired timer is no longer scheduled")
		require.Equal(t, 0, w.Len())
		_, ok := w.NextDeadline()
		require.False(t, ok)
	}
	var zero Timer[int]
	require.False(t, New[int](0).Stop(&zero))
}

// Ensure that Reset to an earlier deadline fires at the new deadline.
func TestWheel_ResetEarlier(t *testing.T) {
	for _, off := range interesting() {
		if off < 2 {
			continue
		}
		w := New[int](base)
		tm := w.Add(1, base+off)
		w.Reset(tm, base+off/2)
		require.Equal(t, base+off/2, tm.Deadline())
		require.Equal(t, 1, w.Len())
		require.Empty(t, collect(w, base+off/2-1))
		require.Equal(t, []*Timer[int]{tm}, collect(w, base+off/2), "off=%d", off)
		require.Empty(t, collect(w, base+off+1))
	}
	// Reset into the past makes it due on the next Advance.
	w := New[int](base)
	tm := w.Add(1, base+year)
	w.Reset(tm, base-1)
	require.Equal(t, []*Timer[int]{tm}, collect(w, base))
}

// Ensure that Reset to a later deadline does not fire at the old one but fires at the new one.
func TestWheel_ResetLater(t *testing.T) {
	for _, off := range interesting() {
		if off > math.MaxInt64/4 {
			continue
		}
		w := New[int](base)
		tm := w.Add(1, base+off)
		w.Reset(tm, base+2*off+1)
		require.Equal(t, 1, w.Len())
		require.Empty(t, collect(w, base+off))
		require.Empty(t, collect(w, base+2*off))
		require.Equal(t, []*Timer[int]{tm}, collect(w, base+2*off+1), "off=%d", off)
	}
}

// Ensure that Reset re-arms a fired or stopped timer, and schedules a zero Timer.
func TestWheel_ResetRearmsFiredTimer(t *testing.T) {
	w := New[int](base)
	tm := w.Add(1, base+10)
	require.Equal(t, []*Timer[int]{tm}, collect(w, base+10))
	require.False(t, tm.Scheduled())

	w.Reset(tm, base+1000)
	require.True(t, tm.Scheduled())
	require.Equal(t, 1, w.Len())
	require.Empty(t, collect(w, base+999))
	require.Equal(t, []*Timer[int]{tm}, collect(w, base+1000))

	require.True(t, w.Stop(w.Add(9, base+5000)))
	w.Reset(tm, base+2000)
	require.True(t, w.Stop(tm))
	w.Reset(tm, base+3000)
	require.Equal(t, []*Timer[int]{tm}, collect(w, base+3000))

	// A zero Timer (e.g. embedded in a caller's value) is schedulable.
	var z Timer[int]
	z.Key = 42
	require.False(t, z.Scheduled())
	w.Reset(&z, base+3500)
	require.True(t, z.Scheduled())
	require.Equal(t, []*Timer[int]{&z}, collect(w, base+4000))
	require.Equal(t, 0, w.Len())
}

// Ensure that the fire callback may Add, Reset and Stop timers, and timers it makes due fire only on the next Advance.
func TestWheel_CallbackMayMutate(t *testing.T) {
	w := New[int](base)
	all := []*Timer[int]{w.Add(0, base+10), w.Add(1, base+10), w.Add(2, base+10), w.Add(3, base+10)}
	later := w.Add(4, base+50)
	var first, added *Timer[int]
	n := w.Advance(base+10, 0, func(tm *Timer[int]) {
		require.Nil(t, first, "the other due timers were stopped")
		require.False(t, tm.Scheduled(), "removed before fire")
		first = tm
		for _, o := range all {
			if o != tm {
				require.True(t, w.Stop(o))
			}
		}
		w.Reset(tm, base+5)       // due again, but only on the next Advance
		added = w.Add(9, base+10) // due now, but only on the next Advance
		w.Reset(later, base+20)   // moved earlier, still in the future
	})
	require.Equal(t, 1, n)
	require.True(t, first.Scheduled())
	require.True(t, added.Scheduled())
	require.Equal(t, 3, w.Len())

	// What the callback made due fires on the next Advance, even without moving time.
	require.ElementsMatch(t, []*Timer[int]{first, added}, collect(w, base+10))
	require.Empty(t, collect(w, base+19))
	// A callback re-arming into the future fires at the new deadline.
	require.Equal(t, 1, w.Advance(base+20, 0, func(tm *Timer[int]) { w.Reset(tm, base+30) }))
	require.Empty(t, collect(w, base+29))
	require.Equal(t, []*Timer[int]{later}, collect(w, base+30))
	require.Equal(t, 0, w.Len())
}

// Ensure that a fire callback that keeps re-arming its timer at the current time cannot loop forever.
func TestWheel_CallbackRearmAtNowDoesNotLoop(t *testing.T) {
	w := New[int](base)
	tm := w.Add(1, base)
	for i := 1; i <= 3; i++ {
		n := w.Advance(base, 0, func(tm *Timer[int]) { w.Reset(tm, w.Now()) })
		require.Equal(t, 1, n)
		require.True(t, tm.Scheduled())
	}
}

// Ensure that calling Advance from a fire callback panics instead of corrupting the wheel.
func TestWheel_AdvanceFromCallbackPanics(t *testing.T) {
	w := New[int](base)
	w.Add(1, base)
	require.Panics(t, func() {
		w.Advance(base, 0, func(*Timer[int]) { w.Advance(base+1, 0, func(*Timer[int]) {}) })
	})
	// The wheel is usable again after the panic.
	w.Add(2, base+1)
	require.Len(t, collect(w, base+1), 1)
}

// Ensure that far-future deadlines (years, year 9999, near max int64) fire when time reaches them and not before.
func TestWheel_FarFutureDeadlines(t *testing.T) {
	deadlines := []int64{
		base + year, base + 10*year, base + 100*year, year9999,
		math.MaxInt64 / 2, math.MaxInt64/2 + 1, math.MaxInt64 - 1, math.MaxInt64,
	}
	w := New[int64](base)
	for _, d := range deadlines {
		w.Add(d, d)
	}
	// A very early deadline too, to force cascades from a cursor far behind.
	w.Add(base+1, base+1)
	deadlines = append([]int64{base + 1}, deadlines...)
	for i, d := range deadlines {
		require.Empty(t, collect(w, d-1), "deadline %d fired early", d)
		nd, ok := w.NextDeadline()
		require.True(t, ok)
		require.LessOrEqual(t, nd, d)
		fired := collect(w, d)
		require.Len(t, fired, 1, "deadline %d", d)
		require.Equal(t, d, fired[0].Key)
		require.Equal(t, len(deadlines)-i-1, w.Len())
	}
	require.Equal(t, int64(math.MaxInt64), w.Now())

	// Jumping straight to the end fires everything at once.
	w = New[int64](base)
	for _, d := range deadlines {
		w.Add(d, d)
	}
	require.Len(t, collect(w, math.MaxInt64), len(deadlines))
	require.LessOrEqual(t, w.cascades, len(deadlines)*maxLevels)
}

// Ensure that a wheel starting at negative or minimal times orders deadlines correctly across zero.
func TestWheel_NegativeTimes(t *testing.T) {
	w := New[int64](math.MinInt64)
	ds := []int64{math.MinInt64 + 1, -year, -1, 0, 1, year, math.MaxInt64}
	for _, d := range ds {
		w.Add(d, d)
	}
	for _, d := range ds {
		require.Empty(t, collect(w, d-1))
		fired := collect(w, d)
		require.Len(t, fired, 1)
		require.Equal(t, d, fired[0].Key)
	}
}

// Ensure that a huge jump over an almost empty wheel does bounded work, not one step per millisecond.
func TestWheel_BigJumpIsCheap(t *testing.T) {
	w := New[int](base)
	w.Add(1, base+10*year)
	w.Add(2, base+10*year+1)
	w.Add(3, year9999)
	require.Equal(t, 2, w.Advance(base+20*year, 0, func(*Timer[int]) {}))
	require.LessOrEqual(t, w.cascades, 3*maxLevels)
	require.Equal(t, 1, w.Len())
	require.Equal(t, 1, w.Advance(math.MaxInt64, 0, func(*Timer[int]) {}))
	require.LessOrEqual(t, w.cascades, 3*maxLevels)
	// And a jump over a completely empty wheel does no cascade at all.
	before := w.cascades
	require.Zero(t, w.Advance(math.MaxInt64, 0, func(*Timer[int]) {}))
	require.Equal(t, before, w.cascades)
	// Timers whose whole slot is passed by the jump go straight to the due list.
	w = New[int](base)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 1000 {
		w.Add(i, base+1+r.Int64N(10*year))
	}
	require.Equal(t, 1000, w.Advance(base+10*year, 0, func(*Timer[int]) {}))
	require.Equal(t, 1000, w.cascades, "each timer moved once")
	// After the jump the cursor is at the new time: a near timer lands in level 0.
	w = New[int](base)
	w.Advance(base+10*year, 0, func(*Timer[int]) {})
	w.Add(4, base+10*year+5)
	require.Equal(t, uint16(1), w.levels, "near timer placed at level 0")
	require.Equal(t, 1, w.Advance(base+10*year+5, 0, func(*Timer[int]) {}))
	require.Zero(t, w.cascades, "a level-0 slot fires in place")
}

// Ensure that max bounds the number fired per Advance and the rest stay due for later Advances.
func TestWheel_MaxBound(t *testing.T) {
	w := New[int](base)
	seen := make([]int, 1000)
	for i := range 1000 {
		w.Add(i, base+1+int64(i%700)) // spread over several level-0 and level-1 slots
	}
	w.Add(-1, base+5000)
	count := func(tm *Timer[int]) {
		require.LessOrEqual(t, tm.Deadline(), base+700)
		seen[tm.Key]++
	}
	require.Equal(t, 10, w.Advance(base+700, 10, count))
	require.Equal(t, base+700, w.Now())
	require.Equal(t, 991, w.Len())
	// Later Advances (even without moving time) fire the rest, at most max
	// at a time; one that also cascades may fire fewer, and Pending says
	// that work is left.
	total, calls := 10, 0
	for w.Pending() {
		n := w.Advance(base+700, 10, count)
		require.LessOrEqual(t, n, 10)
		total += n
		calls++
	}
	require.Equal(t, 1000, total)
	require.Less(t, calls, 1000/10+700/256+1+1000/10, "each call fires or cascades up to max timers")
	require.Zero(t, w.Advance(base+700, 10, count))
	for i, c := range seen {
		require.Equal(t, 1, c, "timer %d", i)
	}
	require.Equal(t, 1, w.Len())
	// Timers added while work is left are placed correctly.
	w2 := New[int](base)
	for i := range 100 {
		w2.Add(i, base+int64(i))
	}
	require.Equal(t, 5, w2.Advance(base+1000, 5, func(*Timer[int]) {}))
	late := w2.Add(1000, base+1001)
	early := w2.Add(1001, base+999)
	require.Equal(t, 96, w2.Advance(base+1000, 0, func(tm *Timer[int]) { require.NotSame(t, late, tm) }))
	require.False(t, early.Scheduled())
	require.Equal(t, []*Timer[int]{late}, collect(w2, base+1001))
}

// Ensure that a bounded Advance stays bounded when a million timers share one deadline: every call moves and fires at most max, each timer fires once, and NextDeadline stays a lower bound meanwhile.
func TestWheel_SameDeadlineStormIsBounded(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	const max = 512
	w := New[int32](base)
	deadline := base + 60_000 // crosses boundaries of levels 0, 1 and 2 on the way
	for i := range n {
		w.Add(int32(i), deadline)
	}
	late := w.Add(-1, deadline+1)
	fired := make([]uint8, n)
	total := 0
	for now := base; now <= deadline; now += 100 {
		for first := true; first || w.Pending(); first = false {
			c := w.cascades
			k := w.Advance(now, max, func(tm *Timer[int32]) {
				require.LessOrEqual(t, tm.Deadline(), now)
				fired[tm.Key]++
			})
			require.LessOrEqual(t, k, max)
			require.LessOrEqual(t, w.cascades-c, max, "cascaded per call")
			total += k
			nd, ok := w.NextDeadline()
			require.True(t, ok)
			if total < n {
				require.LessOrEqual(t, nd, deadline)
			} else {
				require.LessOrEqual(t, nd, late.Deadline())
			}
		}
		if now < deadline {
			require.Zero(t, total, "nothing fires early")
		}
	}
	require.Equal(t, n, total)
	require.Equal(t, 1, w.Len())
	require.True(t, late.Scheduled())
	for i, c := range fired {
		if c != 1 {
			require.Failf(t, "fire count", "timer %d fired %d times", i, c)
		}
	}
	require.Equal(t, []*Timer[int32]{late}, collect(w, deadline+1))
}

// Ensure that timers added, stopped and reset while a slot is only partly drained are handled exactly.
func TestWheel_ChangesWhileDraining(t *testing.T) {
	w := New[int](base)
	deadline := base + 5000 // a level-1 slot
	timers := make([]*Timer[int], 1000)
	for i := range timers {
		timers[i] = w.Add(i, deadline+int64(i%3))
	}
	// Reach the slot: the first bounded call only cascades part of it.
	require.Zero(t, w.Advance(deadline-1, 10, func(*Timer[int]) { t.Fatal("early fire") }))
	require.True(t, w.Pending())
	nd, _ := w.NextDeadline()
	require.LessOrEqual(t, nd, deadline)
	// Meanwhile: stop some, move some later and earlier, add new ones.
	for i := 0; i < 1000; i += 7 {
		w.Stop(timers[i])
	}
	w.Reset(timers[1], deadline+10_000)
	w.Reset(timers[2], deadline-2)
	extra := w.Add(-1, deadline+1)
	fired := map[int]int{}
	count := func(tm *Timer[int]) { fired[tm.Key]++ }
	for w.Pending() {
		w.Advance(deadline-1, 10, count)
	}
	require.Equal(t, map[int]int{2: 1}, fired, "only the timer moved before now fired")
	for first := true; first || w.Pending(); first = false {
		w.Advance(deadline+2, 10, count)
	}
	for i := range timers {
		switch {
		case i%7 == 0 || i == 1:
			require.Zero(t, fired[i], "timer %d", i)
		default:
			require.Equal(t, 1, fired[i], "timer %d", i)
		}
	}
	require.Equal(t, 1, fired[-1])
	require.False(t, extra.Scheduled())
	require.Equal(t, 1, w.Len())
	require.Equal(t, []*Timer[int]{timers[1]}, collect(w, deadline+10_000))
}

// Ensure that NextDeadline is false when empty, exact for near timers, and never later than the earliest deadline.
func TestWheel_NextDeadline(t *testing.T) {
	w := New[int](base)
	_, ok := w.NextDeadline()
	require.False(t, ok)
	w.Add(1, base+100)
	nd, ok := w.NextDeadline()
	require.True(t, ok)
	require.Equal(t, base+100, nd)
	w.Add(2, base+year)
	tm := w.Add(3, base+50)
	nd, _ = w.NextDeadline()
	require.Equal(t, base+50, nd)
	w.Stop(tm)
	nd, _ = w.NextDeadline()
	require.LessOrEqual(t, nd, base+100)
	w.Add(4, base-7)
	nd, _ = w.NextDeadline()
	require.LessOrEqual(t, nd, base-7)
	collect(w, base+100)
	nd, ok = w.NextDeadline()
	require.True(t, ok)
	require.LessOrEqual(t, nd, base+year)
	require.Greater(t, nd, base+100)
}

// harness drives a wheel and a trivially correct model side by side.
type harness struct {
	t      testing.TB
	w      *Wheel[int]
	timers []*Timer[int]
	model  map[*Timer[int]]int64 // scheduled timers and their deadlines
	now    int64
}

func newHarness(t testing.TB, now int64) *harness {
	return &harness{t: t, w: New[int](now), model: map[*Timer[int]]int64{}, now: now}
}

func (h *harness) add(d int64) {
	tm := h.w.Add(len(h.timers), d)
	h.timers = append(h.timers, tm)
	h.model[tm] = d
	h.check()
}

func (h *harness) reset(i int, d int64) {
	if len(h.timers) == 0 {
		return
	}
	tm := h.timers[i%len(h.timers)]
	h.w.Reset(tm, d)
	h.model[tm] = d
	h.check()
}

func (h *harness) stop(i int) {
	if len(h.timers) == 0 {
		return
	}
	tm := h.timers[i%len(h.timers)]
	_, want := h.model[tm]
	require.Equal(h.t, want, h.w.Stop(tm))
	delete(h.model, tm)
	h.check()
}

// advance advances both; rearm (if >= 0) makes the callback re-arm every
// rearm-th fired timer at a deadline relative to now.
func (h *harness) advance(to int64, max int, rearm int, rearmOff int64) {
	if to > h.now {
		h.now = to
	}
	due := 0
	for _, d := range h.model {
		if d <= h.now {
			due++
		}
	}
	firedNow := map[*Timer[int]]bool{}
	rearmedDue := map[*Timer[int]]bool{}
	fire := func(tm *Timer[int]) {
		d, ok := h.model[tm]
		if !ok || firedNow[tm] {
			require.Failf(h.t, "bad fire", "timer %d fired while not scheduled or twice", tm.Key)
		}
		if d > h.now || tm.Deadline() != d {
			require.Failf(h.t, "early fire", "timer %d deadline %d fired at %d", tm.Key, d, h.now)
		}
		if tm.Scheduled() {
			require.Fail(h.t, "fired timer still scheduled")
		}
		firedNow[tm] = true
		delete(h.model, tm)
		if rearm > 0 && len(firedNow)%rearm == 0 {
			nd := h.now + rearmOff
			h.w.Reset(tm, nd)
			h.model[tm] = nd
			if nd <= h.now {
				rearmedDue[tm] = true
			}
		}
	}
	n := h.w.Advance(to, max, fire)
	require.Equal(h.t, len(firedNow), n)
	require.Equal(h.t, h.now, h.w.Now())
	want := due
	if max > 0 && max < due {
		want = max
	}
	if max > 0 && n < want {
		// A bounded Advance also bounds its cascading, so it may stop
		// early; it must then say that work is left.
		require.True(h.t, h.w.Pending(), "fired %d of %d (due=%d max=%d) and nothing pending", n, want, due, max)
	} else {
		require.Equal(h.t, want, n, "fired count (due=%d max=%d)", due, max)
	}
	if max <= 0 {
		for tm, d := range h.model {
			if d <= h.now && !rearmedDue[tm] {
				require.Failf(h.t, "missed", "timer %d deadline %d still scheduled at %d", tm.Key, d, h.now)
			}
		}
	}
	h.check()
}

func (h *harness) check() {
	require.Equal(h.t, len(h.model), h.w.Len())
	nd, ok := h.w.NextDeadline()
	require.Equal(h.t, len(h.model) > 0, ok)
	for tm, d := range h.model {
		if !tm.Scheduled() || tm.Deadline() != d {
			require.Failf(h.t, "model mismatch", "timer %d", tm.Key)
		}
		if d < nd {
			require.Failf(h.t, "NextDeadline too late", "NextDeadline %d > deadline %d", nd, d)
		}
	}
}

// offset turns a selector and raw value into a time offset of varied magnitude.
func offset(kind byte, v uint64) int64 {
	switch kind % 8 {
	case 0:
		return int64(v%16) - 4 // around now, including the past
	case 1:
		return int64(v % 300) // level 0 and the first boundary
	case 2:
		return int64(v % (1 << 16))
	case 3:
		return int64(v % (1 << 26))
	case 4:
		return int64(v % uint64(20*year))
	case 5:
		return int64(v>>2) - math.MaxInt64/4 // anywhere, huge
	case 6:
		return -int64(v % (1 << 20)) // past
	default:
		return int64(v % 5000)
	}
}

// clampAdd returns a+b saturated to the int64 range.
func clampAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	if b < 0 && a < math.MinInt64-b {
		return math.MinInt64
	}
	return a + b
}

// Ensure that random Add/Reset/Stop/Advance sequences with small and huge time jumps match a simple model.
func TestWheel_RandomizedAgainstModel(t *testing.T) {
	seeds := 40
	steps := 3000
	if testing.Short() {
		seeds, steps = 10, 1000
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 7))
			start := base
			if seed%5 == 4 {
				start = r.Int64() - math.MaxInt64/2
			}
			h := newHarness(t, start)
			for range steps {
				op := r.IntN(100)
				off := offset(byte(r.IntN(8)), r.Uint64())
				if r.IntN(20) == 0 {
					off = offset(byte(r.IntN(8)), r.Uint64()) * 3
				}
				d := clampAdd(h.now, off)
				switch {
				case op < 40:
					h.add(d)
				case op < 55:
					h.reset(r.IntN(1<<30), d)
				case op < 65:
					h.stop(r.IntN(1 << 30))
				default:
					max := 0
					if r.IntN(4) == 0 {
						max = 1 + r.IntN(8)
					}
					rearm := 0
					if r.IntN(4) == 0 {
						rearm = 1 + r.IntN(3)
					}
					var jump int64
					switch r.IntN(6) {
					case 0:
						jump = 0
					case 1:
						jump = -int64(r.IntN(1000)) // backwards: only what is due
					case 2:
						jump = int64(r.IntN(300))
					case 3:
						jump = int64(r.IntN(1 << 20))
					case 4:
						jump = int64(r.Int64N(10 * year))
					default:
						jump = off
					}
					h.advance(clampAdd(h.now, jump), max, rearm, offset(byte(r.IntN(8)), r.Uint64()))
				}
			}
			// Drain everything.
			h.advance(math.MaxInt64, 0, 0, 0)
			require.Equal(t, 0, h.w.Len())
		})
	}
}

// Ensure that jumping over 10 years with 1M timers fires each exactly once, only within the Advance window holding its deadline.
func TestWheel_TenYearJumpMillionTimers(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	r := rand.New(rand.NewPCG(1, 2))
	w := New[int32](base)
	deadlines := make([]int64, n)
	for i := range deadlines {
		deadlines[i] = base + 1 + r.Int64N(10*year)
		w.Add(int32(i), deadlines[i])
	}
	sorted := slices.Clone(deadlines)
	slices.Sort(sorted)
	fired := make([]uint8, n)
	prev, total, bad := base, 0, 0
	// A few random jumps of varying size, then the rest in one go.
	stops := []int64{base + 1, base + 1000, base + 86_400_000, base + year/3, base + 4*year + 17, base + 10*year - 1, base + 10*year}
	for _, now := range stops {
		lo := prev
		k := w.Advance(now, 0, func(tm *Timer[int32]) {
			d := tm.Deadline()
			if d <= lo || d > now || d != deadlines[tm.Key] {
				bad++
			}
			fired[tm.Key]++
		})
		total += k
		wantTotal, _ := slices.BinarySearch(sorted, now+1)
		require.Equal(t, wantTotal, total, "after advancing to +%d", now-base)
		require.Equal(t, n-total, w.Len())
		prev = now
	}
	require.Zero(t, bad, "timers fired outside their window")
	require.Equal(t, n, total)
	for i, c := range fired {
		if c != 1 {
			require.Failf(t, "fire count", "timer %d fired %d times", i, c)
		}
	}
	require.LessOrEqual(t, w.cascades, n*maxLevels)
}

// Ensure that 2 million timers all fire exactly once, on time, when advancing through them in steps.
func TestWheel_TwoMillionTimers(t *testing.T) {
	n := 2_000_000
	if testing.Short() {
		n = 200_000
	}
	r := rand.New(rand.NewPCG(3, 4))
	w := New[int32](base)
	timers := make([]*Timer[int32], n)
	span := int64(3_600_000) // one hour of TTLs
	for i := range timers {
		timers[i] = w.Add(int32(i), base+r.Int64N(span))
	}
	deadlines := make([]int64, n)
	for i, tm := range timers {
		deadlines[i] = tm.Deadline()
	}
	slices.Sort(deadlines)
	fired := make([]uint8, n)
	total, early := 0, 0
	for now := base; now <= base+span; {
		total += w.Advance(now, 0, func(tm *Timer[int32]) {
			if tm.Deadline() > now {
				early++
			}
			fired[tm.Key]++
		})
		want, _ := slices.BinarySearch(deadlines, now+1)
		if want != total {
			require.Equal(t, want, total, "at +%d", now-base)
		}
		now += 1 + r.Int64N(5000)
	}
	total += w.Advance(base+span, 0, func(tm *Timer[int32]) { fired[tm.Key]++ })
	require.Zero(t, early)
	require.Equal(t, n, total)
	require.Equal(t, 0, w.Len())
	for i, c := range fired {
		if c != 1 {
			require.Failf(t, "fire count", "timer %d fired %d times", i, c)
		}
	}
}

// FuzzWheel drives random operations decoded from bytes against the model.
func FuzzWheel(f *testing.F) {
	f.Add(int64(base), []byte{0, 1, 5, 0, 0, 0, 0, 0, 0, 0, 3, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Add(int64(0), []byte{0, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 0, 2, 9, 0, 0, 0, 0, 0, 0, 3, 5, 4, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0})
	f.Add(int64(math.MinInt64/2), []byte("\x00\x05abcdefgh\x00\x02ijklmnop\x03\x04qrstuvwx\x01\x07yzABCDEF\x03\x05GHIJKLMN\x02\x03"))
	f.Fuzz(func(t *testing.T, start int64, data []byte) {
		h := newHarness(t, start)
		for len(data) >= 2 {
			op, kind := data[0], data[1]
			data = data[2:]
			var buf [8]byte
			m := copy(buf[:], data)
			data = data[m:]
			v := binary.LittleEndian.Uint64(buf[:])
			d := clampAdd(h.now, offset(kind, v))
			switch op % 5 {
			case 0:
				h.add(d)
			case 1:
				h.reset(int(v>>32), d)
			case 2:
				h.stop(int(v >> 32))
			default:
				max := 0
				if op%5 == 4 {
					max = 1 + int(kind>>4)
				}
				h.advance(d, max, int(kind>>6), offset(kind>>3, v>>7))
			}
		}
		h.advance(math.MaxInt64, 0, 0, 0)
		require.Equal(t, 0, h.w.Len())
	})
}

var benchDeadlines = func() []int64 {
	r := rand.New(rand.NewPCG(9, 9))
	ds := make([]int64, 1<<16)
	for i := range ds {
		ds[i] = 1 + r.Int64N(24*3600*1000) // TTLs up to a day
	}
	return ds
}()

// BenchmarkWheel_Add measures Add of TTLs up to a day into a growing wheel
// (including the 48-byte Timer allocation).
func BenchmarkWheel_Add(b *testing.B) {
	w := New[int](base)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		w.Add(i, base+benchDeadlines[i&(len(benchDeadlines)-1)])
	}
}

// BenchmarkWheel_StopReset measures Reset, and alternating Stop/Reset, on
// 65536 scheduled timers.
func BenchmarkWheel_StopReset(b *testing.B) {
	w := New[int](base)
	timers := make([]*Timer[int], 1<<16)
	for i := range timers {
		timers[i] = w.Add(i, base+benchDeadlines[i])
	}
	b.Run("Reset", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			w.Reset(timers[i&(len(timers)-1)], base+benchDeadlines[(i*7)&(len(benchDeadlines)-1)])
		}
	})
	b.Run("StopReset", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			tm := timers[i&(len(timers)-1)]
			if i&1 == 0 {
				w.Stop(tm)
			} else {
				w.Reset(tm, base+benchDeadlines[(i*7)&(len(benchDeadlines)-1)])
			}
		}
	})
}

// BenchmarkWheel_Advance reports the cost per fired timer, including cascades,
// advancing in one-second steps through a day of TTLs.
func BenchmarkWheel_Advance(b *testing.B) {
	w := New[int](base)
	for i := 0; i < b.N; i++ {
		w.Add(i, base+benchDeadlines[i&(len(benchDeadlines)-1)]+int64(i>>16))
	}
	b.ResetTimer()
	fired := 0
	fire := func(*Timer[int]) { fired++ }
	for now := base; w.Len() > 0; now += 1000 {
		w.Advance(now, 0, fire)
	}
	if fired != b.N {
		b.Fatalf("fired %d of %d", fired, b.N)
	}
}
