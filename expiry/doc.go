// Package expiry implements a hierarchical timer wheel used to find keys
// whose TTL deadline has passed.
//
// A Wheel holds Timers, each carrying a caller-defined Key and an absolute
// deadline in unix milliseconds. Add, Reset and Stop are O(1); Advance moves
// the wheel's clock forward and hands every timer whose deadline has been
// reached to a callback. The caller keeps the *Timer returned by Add (for
// example inside the stored value) so it can later Reset or Stop it without
// any lookup. A zero Timer (or one embedded in the caller's own struct) may
// be scheduled with Reset, which lets callers avoid a separate allocation.
//
// # Design
//
// Level 0 has 256 one-millisecond slots; each of the ten higher levels has 64
// slots, each slot 64 times coarser than a slot of the level below, so the
// eleven levels cover the whole int64 range and no overflow list is needed.
// A timer is stored at the level of the highest bit in which its deadline
// differs from the wheel's internal cursor, so lower levels always hold
// earlier timers than higher ones. Each slot is an intrusive doubly-linked
// list and each level has an occupancy bitmap, so the next non-empty slot
// is found with a few bit operations whatever the distance to it: jumping
// ahead by days or years costs time proportional to the timers fired and
// cascaded (each timer cascades at most once per level), never to the
// number of milliseconds elapsed.
//
// # Caveats
//
//   - A Wheel is not safe for concurrent use. It starts no goroutines and
//     never reads the clock; the caller serialises access with its own lock
//     and passes the current time to New and Advance.
//   - Time only moves forward: Advance with a time earlier than Now does not
//     rewind the wheel, it only fires timers that are already due.
//   - Timers fire in no particular order, and only from Advance. A timer whose
//     deadline is at or before Now when it is scheduled fires on the next
//     Advance.
//   - Advance with a bound (max > 0) does bounded work: it fires at most max
//     timers and cascades at most max, so a slot holding a million timers
//     that expire together is drained over many calls (a level-0 slot is
//     fired in place, without moving its timers first). It may therefore
//     return fewer than max while timers are due; Pending says whether work
//     is left.
//   - A Timer belongs to the Wheel that scheduled it: while it is scheduled it
//     must only be passed to that Wheel's Reset and Stop.
//   - The fire callback may call Add, Reset and Stop, but must not call
//     Advance on the same Wheel.
package expiry
