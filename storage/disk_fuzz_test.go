package storage

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// The on-disk decoders meet whatever is in the file: they must never panic,
// fail only with ErrCorrupt, and agree with their encoders.

// Ensure that DecodeRecords never panics, fails only with ErrCorrupt, and
// that what it decodes encodes back to bytes that decode to the same records.
func FuzzDecodeRecords(f *testing.F) {
	var seed []byte
	for _, r := range []Record{
		{Op: OpSet, DB: 0, Key: "k", Value: []byte("v"), Deadline: 1700000000000},
		{Op: OpDel, DB: 3, Key: "gone"},
		{Op: OpExpire, DB: 1, Key: "k", Deadline: -1},
		{Op: OpHSet, DB: InternalDB(0), Key: "s:abc", Field: "user", Value: []byte("alice")},
		{Op: OpHDel, DB: 0, Key: "h", Field: "f"},
		{Op: OpSAdd, DB: 0, Key: "set", Field: "m"},
		{Op: OpSRem, DB: 0, Key: "set", Field: "m"},
		{Op: OpZAdd, DB: 0, Key: "z", Field: "m", Value: encodeScore(1.5)},
		{Op: OpZRem, DB: 0, Key: "z", Field: "m"},
		{Op: OpFlushDB, DB: 2},
		{Op: OpFlushAll},
		{Op: OpSwapDB, DB: 0, DB2: 1},
	} {
		one := AppendRecord(nil, &r)
		f.Add(one)
		seed = append(seed, one...)
	}
	f.Add(seed)
	f.Add([]byte{byte(OpSet), 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{0xee})
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := DecodeRecords(b)
		if err != nil {
			require.True(t, errors.Is(err, ErrCorrupt), "error not ErrCorrupt: %v", err)
			return
		}
		var again []byte
		for i := range recs {
			again = AppendRecord(again, &recs[i])
		}
		recs2, err := DecodeRecords(again)
		require.NoError(t, err)
		require.Equal(t, len(recs), len(recs2))
		for i := range recs {
			a, b := recs[i], recs2[i]
			require.Equal(t, a.Op, b.Op)
			require.Equal(t, a.DB, b.DB)
			require.Equal(t, a.DB2, b.DB2)
			require.Equal(t, a.Key, b.Key)
			require.Equal(t, a.Field, b.Field)
			require.True(t, bytes.Equal(a.Value, b.Value))
			require.Equal(t, a.Deadline, b.Deadline)
		}
	})
}

// Ensure that a key's header and a sorted-set score decode without panics,
// fail only with ErrCorrupt, and round-trip through their encoders.
func FuzzDecodeHeader(f *testing.F) {
	f.Add(encodeHeader(KindString, 0, []byte("value")))
	f.Add(encodeHeader(KindHash, 1700000000000, nil))
	f.Add(encodeHeader(KindZSet, -1, nil))
	f.Add(encodeScore(math.Inf(-1)))
	f.Add([]byte{9, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		kind, deadline, str, err := decodeHeader(b)
		if err != nil {
			require.True(t, errors.Is(err, ErrCorrupt), "error not ErrCorrupt: %v", err)
		} else {
			k2, d2, s2, err := decodeHeader(encodeHeader(kind, deadline, str))
			require.NoError(t, err)
			require.Equal(t, kind, k2)
			require.Equal(t, deadline, d2)
			require.True(t, bytes.Equal(str, s2))
		}
		score, err := decodeScore(b)
		if err != nil {
			require.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotANumber), "score error: %v", err)
			return
		}
		again, err := decodeScore(encodeScore(score))
		require.NoError(t, err)
		require.Equal(t, math.Float64bits(score), math.Float64bits(again))
	})
}
