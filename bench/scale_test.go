package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Ensure that db0's keys and expires are read from INFO keyspace, that an
// empty keyspace is zero, and that a db0 line without them is an error.
func TestParseKeyspace_ReadsDb0(t *testing.T) {
	keys, expires, err := parseKeyspace("# Keyspace\r\ndb0:keys=1010000,expires=1000000,avg_ttl=4321\r\ndb1:keys=3,expires=0,avg_ttl=0\r\n")
	require.NoError(t, err)
	require.Equal(t, int64(1_010_000), keys)
	require.Equal(t, int64(1_000_000), expires)
	keys, expires, err = parseKeyspace("# Keyspace\r\n")
	require.NoError(t, err)
	require.Zero(t, keys)
	require.Zero(t, expires)
	_, _, err = parseKeyspace("db0:avg_ttl=1\r\n")
	require.Error(t, err)
}

// Ensure that counts are shortened to k and M only when exact.
func TestHumanCount_Units(t *testing.T) {
	require.Equal(t, "10k", humanCount(10_000))
	require.Equal(t, "10M", humanCount(10_000_000))
	require.Equal(t, "2500k", humanCount(2_500_000))
	require.Equal(t, "1234", humanCount(1234))
}

// Ensure that the expiry row is in the default table with a latency ratio,
// and that the scale rows are only there with -big, compare sessdb with
// itself at 10k keys and take -big-keys as their keyspace.
func TestScaleScenarios_Registered(t *testing.T) {
	var storm *Scenario
	for _, s := range scenarios() {
		require.NotContains(t, s.ID(), "scale-")
		if s.ID() == "expiry-storm/c50/P1" {
			storm = &s
		}
	}
	require.NotNil(t, storm)
	require.True(t, storm.LatencyRatio)
	require.Equal(t, SideVolatile, storm.Side)
	require.Equal(t, stormKeys, storm.Requests)
	require.Equal(t, stormHot, storm.Keyspace)

	big := bigScenarios(3_000_000)
	require.Len(t, big, 2)
	for _, s := range big {
		require.Contains(t, []string{"scale-get/c50/P16", "scale-set/c50/P16"}, s.ID())
		require.Equal(t, 3_000_000, s.Keyspace)
		require.Equal(t, scaleBaseline, s.Baseline)
		require.Contains(t, s.Workload, "3M keys vs 10k")
		require.NotNil(t, s.Preload)
	}
	_, err := selectScenarios(scenarios(), "^scale-")
	require.ErrorContains(t, err, "need -big")

	o, err := parseFlags([]string{"-big", "-big-keys", "2000000"}, io.Discard)
	require.NoError(t, err)
	require.True(t, o.big)
	require.Equal(t, 2_000_000, o.bigKeys)
	_, err = parseFlags([]string{"-big-keys", "10"}, io.Discard)
	require.Error(t, err)
}

// Ensure that a latency-ratio row is marked as such in its summary.
func TestSummarize_MarksLatencyRatio(t *testing.T) {
	sc := stormScenarios()[0]
	row := summarize(sc, 1000, []RoundResult{{Round: 1, Ratio: 0.5}, {Round: 2, Ratio: 2}, {Round: 3, Ratio: 0.8}}, nil)
	require.Equal(t, "p99", row.RatioOf)
	require.InDelta(t, 0.8, row.Ratio, 1e-9)
}

// Ensure that the expiry bench, against a real redis-server, fills keys
// expiring together, measures GETs across their deadline, and ends once
// the server has reclaimed every one of them.
func TestExpiryStorm_AgainstRedis(t *testing.T) {
	// It waits for real keys to expire in a real redis-server (no clock to
	// inject there), so it runs only when asked.
	if os.Getenv("BENCH_LIVE") == "" {
		t.Skip("waits ~4 s of real time for keys to expire in redis-server; BENCH_LIVE=1 runs it")
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := startServer(ctx, ServerSpec{Name: "redis", Bin: bin, Args: redisArgs(SideVolatile)}, t.TempDir())
	require.NoError(t, err)
	defer srv.Stop()

	rc := RunContext{Addr: srv.Addr, Clients: 4, Pipeline: 2, Requests: 20_000, Keyspace: 100}
	loaded, err := preloadStorm(ctx, rc)
	require.NoError(t, err)
	plan := loaded.(stormPlan)
	require.Equal(t, 20_000, plan.Keys)
	require.True(t, plan.At.After(time.Now()))
	require.Zero(t, plan.At.UnixMilli()%1000, "a whole second")

	rc.Loaded = loaded
	res, err := ExpiryStorm{}.Run(ctx, rc)
	require.NoError(t, err)
	require.Positive(t, res.Requests)
	require.Positive(t, res.ExpirySeconds)
	require.GreaterOrEqual(t, res.Seconds, stormMinWindow.Seconds())
	require.GreaterOrEqual(t, res.P99Ms, res.P50Ms)
	require.GreaterOrEqual(t, res.MaxMs, res.P99Ms)
	keys, expires, err := keyspaceInfo(ctx, srv.Addr)
	require.NoError(t, err)
	require.Equal(t, int64(100), keys)
	require.Zero(t, expires)
}
