package expiry

import "math/bits"

// Geometry: level 0 has 256 slots of 1 ms; each higher level has 64 slots,
// each 64 times wider than a slot of the level below. Ten higher levels
// cover all 64 bits of a time, so there is no overflow list.
const (
	level0Bits  = 8
	level0Slots = 1 << level0Bits
	levelNBits  = 6
	levelNSlots = 1 << levelNBits
	upperLevels = (64 - level0Bits + levelNBits - 1) / levelNBits // 10
	numLevels   = 1 + upperLevels

	// Indexes into Wheel.heads: two due lists, then the wheel slots.
	listDue     = 0 // timers already due, fired by Advance
	listPending = 1 // timers made due by a fire callback during Advance
	firstSlot   = 2
	numSlots    = level0Slots + upperLevels*levelNSlots
	numLists    = firstSlot + numSlots

	// Occupancy bitmap words: four for level 0, one per higher level.
	level0Words = level0Slots / 64
	numWords    = level0Words + upperLevels
)

// Timer is one scheduled key. The caller keeps the pointer (for example
// inside its stored value) to Reset or Stop it in O(1). The zero Timer is
// valid and unscheduled; it can be scheduled with Wheel.Reset.
type Timer[K any] struct {
	// Key identifies what the timer is for; the wheel never inspects it.
	Key K

	deadline   int64
	next, prev *Timer[K]
	// loc is 1 + the index into Wheel.heads of the list holding the timer,
	// or 0 when the timer is not scheduled.
	loc uint16
}

// Deadline returns the absolute unix millisecond time the timer fires at (the
// last deadline it was scheduled with).
func (t *Timer[K]) Deadline() int64 { return t.deadline }

// Scheduled reports whether the timer is currently in a wheel.
func (t *Timer[K]) Scheduled() bool { return t.loc != 0 }

// Wheel is a hierarchical timer wheel with one millisecond resolution. It is
// not safe for concurrent use; see the package documentation.
type Wheel[K any] struct {
	now int64 // caller-visible time: the largest time passed to New/Advance
	// cur is the internal cursor, in biased (order-preserving unsigned)
	// form. cur <= bias(now); every wheel slot holds timers whose deadline is
	// > cur, placed by the highest bit in which they differ from cur.
	cur    uint64
	count  int
	minDue int64 // lower bound on the deadlines in the due and pending lists
	// levels has bit L set when level L has at least one occupied slot.
	levels    uint16
	advancing bool
	// draining is the index into heads of the slot Advance is emptying, 0
	// when none: a slot's timers are moved (or, in level 0, fired) a bounded
	// number per Advance, so a slot holding a million timers that all
	// expire together is worked off over several calls.
	draining int
	cascades int // number of timers moved between lists by cascading (for tests)
	bitmap   [numWords]uint64
	heads    [numLists]*Timer[K]
}

// New returns an empty wheel whose current time is nowMs.
func New[K any](nowMs int64) *Wheel[K] {
	return &Wheel[K]{now: nowMs, cur: bias(nowMs)}
}

// bias maps int64 to uint64 preserving order.
func bias(t int64) uint64 { return uint64(t) ^ (1 << 63) }

// unbias is the inverse of bias.
func unbias(u uint64) int64 { return int64(u ^ (1 << 63)) }

// Len returns the number of scheduled timers.
func (w *Wheel[K]) Len() int { return w.count }

// Now returns the wheel's current time in unix milliseconds: the largest
// time passed to New or Advance.
func (w *Wheel[K]) Now() int64 { return w.now }

// Add schedules a new timer for key at deadlineMs and returns it. A deadline
// at or before Now is due on the next Advance.
func (w *Wheel[K]) Add(key K, deadlineMs int64) *Timer[K] {
	t := &Timer[K]{Key: key}
	w.schedule(t, deadlineMs)
	w.count++
	return t
}

// Reset (re)schedules t at deadlineMs, whether or not it is currently
// scheduled (a fired or stopped timer is re-armed). A deadline at or before
// Now is due on the next Advance.
func (w *Wheel[K]) Reset(t *Timer[K], deadlineMs int64) {
	if t.loc != 0 {
		w.unlink(t)
	} else {
		w.count++
	}
	w.schedule(t, deadlineMs)
}

// Stop removes t from the wheel so it does not fire. It returns false if t
// was not scheduled.
func (w *Wheel[K]) Stop(t *Timer[K]) bool {
	if t.loc == 0 {
		return false
	}
	w.unlink(t)
	w.count--
	return true
}

// Advance moves the wheel's time forward to nowMs (a time before Now only
// processes what is already due) and calls fire for timers whose deadline is
// at or before the new current time, in no particular order. Each timer is
// removed from the wheel before fire is called, so fire may Add, Reset or
// Stop timers, including the fired one; timers it makes due fire on a later
// Advance. fire must not call Advance. Advance returns the number of timers
// fired.
//
// With max <= 0 Advance fires every due timer. With max > 0 it does bounded
// work: it fires at most max timers and moves at most max timers between
// slots (cascading), so it may return before every due timer has fired, even
// with fewer than max fired; Pending then reports that more work is left,
// and later Advances (with the same or a later time) do it. Without a bound,
// the cost is proportional to the timers fired and cascaded, not to the time
// elapsed.
func (w *Wheel[K]) Advance(nowMs int64, max int, fire func(*Timer[K])) int {
	if w.advancing {
		panic("expiry: Advance called from a fire callback")
	}
	if nowMs > w.now {
		w.now = nowMs
	}
	target := bias(w.now)
	w.advancing = true
	defer w.endAdvance()
	n, moved := 0, 0
	for {
		for t := w.heads[listDue]; t != nil; t = w.heads[listDue] {
			if max > 0 && n >= max {
				return n
			}
			w.unlink(t)
			w.count--
			n++
			fire(t)
		}
		if w.draining == 0 {
			level, slot, start, ok := w.earliest()
			if !ok || start > target {
				// Every occupied slot starts after target, so moving the cursor
				// there keeps each timer's placement valid.
				w.cur = target
				return n
			}
			w.startDrain(level, slot, start)
		}
		list := w.draining
		if list < firstSlot+level0Slots {
			// A level-0 slot is one millisecond: every timer in it is due
			// now. Fire them where they are instead of moving them first.
			for t := w.heads[list]; t != nil; t = w.heads[list] {
				if max > 0 && n >= max {
					return n
				}
				w.unlink(t)
				w.count--
				n++
				fire(t)
			}
		} else {
			for t := w.heads[list]; t != nil; t = w.heads[list] {
				if max > 0 && moved >= max {
					return n
				}
				moved++
				w.cascade(t, target)
			}
		}
		w.draining = 0
	}
}

// Pending reports whether an Advance at Now would find work left: timers
// due but not fired, or a slot not yet fully cascaded, because an earlier
// Advance stopped at its bound.
func (w *Wheel[K]) Pending() bool {
	if w.heads[listDue] != nil || w.heads[listPending] != nil {
		return true
	}
	if w.draining != 0 && w.heads[w.draining] != nil {
		return true
	}
	_, _, start, ok := w.earliest()
	return ok && start <= bias(w.now)
}

// endAdvance clears the advancing flag and moves the timers made due during
// Advance to the due list.
func (w *Wheel[K]) endAdvance() {
	w.advancing = false
	for t := w.heads[listPending]; t != nil; t = w.heads[listPending] {
		w.heads[listPending] = t.next
		w.push(t, listDue)
	}
}

// NextDeadline returns a lower bound for the earliest deadline among the
// scheduled timers: the start of the earliest occupied slot (exact when that
// slot is in level 0, whose slots are one millisecond wide), or a time at or
// before Now when timers are already due. It returns false when the wheel is
// empty.
func (w *Wheel[K]) NextDeadline() (int64, bool) {
	var next int64
	found := false
	lower := func(t int64) {
		if !found || t < next {
			next, found = t, true
		}
	}
	if w.heads[listDue] != nil || w.heads[listPending] != nil {
		lower(w.minDue)
	}
	if w.draining != 0 && w.heads[w.draining] != nil {
		// The slot being drained starts at the cursor and holds the
		// earliest timers still in a slot.
		lower(unbias(w.cur))
	}
	if _, _, start, ok := w.earliest(); ok {
		// After Advance stopped at max, wheel slots may still hold timers
		// due before the ones in the due lists.
		lower(unbias(start))
	}
	return next, found
}

// schedule places the unscheduled timer t at deadline d. It does not touch
// count.
func (w *Wheel[K]) schedule(t *Timer[K], d int64) {
	t.deadline = d
	if d <= w.now {
		if w.advancing {
			w.pushDue(t, listPending)
		} else {
			w.pushDue(t, listDue)
		}
		return
	}
	w.place(t, bias(d))
}

// place puts t, whose biased deadline u is > w.cur, in its wheel slot.
func (w *Wheel[K]) place(t *Timer[K], u uint64) {
	x := u ^ w.cur
	var idx, word int
	var bit uint64
	var level uint
	if x < level0Slots {
		s := int(u & (level0Slots - 1))
		idx, word, bit = s, s>>6, 1<<(s&63)
	} else {
		level = 1 + uint(bits.Len64(x)-1-level0Bits)/levelNBits
		shift := level0Bits + (level-1)*levelNBits
		s := int(u>>shift) & (levelNSlots - 1)
		idx = level0Slots + int(level-1)*levelNSlots + s
		word, bit = level0Words+int(level-1), 1<<s
	}
	w.bitmap[word] |= bit
	w.levels |= 1 << level
	w.push(t, firstSlot+idx)
}

// pushDue adds t to a due list (listDue or listPending), keeping minDue a
// lower bound of the due deadlines.
func (w *Wheel[K]) pushDue(t *Timer[K], list int) {
	if (w.heads[listDue] == nil && w.heads[listPending] == nil) || t.deadline < w.minDue {
		w.minDue = t.deadline
	}
	w.push(t, list)
}

// push links t at the head of list.
func (w *Wheel[K]) push(t *Timer[K], list int) {
	h := w.heads[list]
	t.prev = nil
	t.next = h
	if h != nil {
		h.prev = t
	}
	w.heads[list] = t
	t.loc = uint16(list + 1)
}

// unlink removes the scheduled timer t from its list, clearing the slot's
// occupancy bit when it becomes empty. It does not touch count.
func (w *Wheel[K]) unlink(t *Timer[K]) {
	list := int(t.loc) - 1
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		w.heads[list] = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.next, t.prev, t.loc = nil, nil, 0
	if list >= firstSlot && w.heads[list] == nil {
		w.clearSlot(list - firstSlot)
	}
}

// clearSlot clears the occupancy bit of the empty wheel slot idx.
func (w *Wheel[K]) clearSlot(idx int) {
	if idx < level0Slots {
		word := idx >> 6
		w.bitmap[word] &^= 1 << (idx & 63)
		if w.bitmap[0]|w.bitmap[1]|w.bitmap[2]|w.bitmap[3] == 0 {
			w.levels &^= 1
		}
		return
	}
	level := 1 + (idx-level0Slots)/levelNSlots
	word := level0Words + level - 1
	w.bitmap[word] &^= 1 << ((idx - level0Slots) & (levelNSlots - 1))
	if w.bitmap[word] == 0 {
		w.levels &^= 1 << level
	}
}

// earliest returns the earliest occupied slot and its biased start time.
// Because every timer sits in a slot after the cursor's digit at its level
// and lower levels hold earlier timers, that is the lowest occupied slot of
// the lowest occupied level.
func (w *Wheel[K]) earliest() (level, slot int, start uint64, ok bool) {
	if w.levels == 0 {
		return 0, 0, 0, false
	}
	level = bits.TrailingZeros16(w.levels)
	if level == 0 {
		for i := 0; i < level0Words; i++ {
			if b := w.bitmap[i]; b != 0 {
				slot = i*64 + bits.TrailingZeros64(b)
				break
			}
		}
		return 0, slot, w.cur&^(level0Slots-1) | uint64(slot), true
	}
	slot = bits.TrailingZeros64(w.bitmap[level0Words+level-1])
	shift := uint(level0Bits + (level-1)*levelNBits)
	var prefix uint64
	if top := shift + levelNBits; top < 64 {
		prefix = w.cur &^ (1<<top - 1)
	}
	return level, slot, prefix | uint64(slot)<<shift, true
}

// startDrain moves the cursor to start, the start of the given occupied slot
// (which must be the earliest, with start <= target), and makes it the slot
// Advance drains. The slot leaves the occupancy bitmap at once: while the
// cursor is at its start no other timer can be placed in it.
func (w *Wheel[K]) startDrain(level, slot int, start uint64) {
	idx := slot
	if level > 0 {
		idx = level0Slots + (level-1)*levelNSlots + slot
	}
	w.clearSlot(idx)
	w.cur = start
	w.draining = firstSlot + idx
}

// cascade moves t out of the slot being drained: to the due list when it is
// due by target, otherwise to a lower level.
func (w *Wheel[K]) cascade(t *Timer[K], target uint64) {
	w.heads[w.draining] = t.next
	if t.next != nil {
		t.next.prev = nil
	}
	w.cascades++
	if u := bias(t.deadline); u <= target {
		w.pushDue(t, listDue)
	} else {
		w.place(t, u)
	}
}
