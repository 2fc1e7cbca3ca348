package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// csvHeader is the header redis-benchmark --csv prints (7.x).
var csvHeader = []string{"test", "rps", "avg_latency_ms", "min_latency_ms", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms", "max_latency_ms"}

// CSVRow is one data line of redis-benchmark --csv output.
type CSVRow struct {
	Test  string
	RPS   float64
	AvgMs float64
	MinMs float64
	P50Ms float64
	P95Ms float64
	P99Ms float64
	MaxMs float64
}

// parseCSV extracts the data rows from redis-benchmark --csv output. Lines
// that are not CSV records (they do not start with a double quote: warnings,
// "Error from server: ..." lines, progress noise) are skipped; the header is
// required and must match the known column set.
func parseCSV(r io.Reader) ([]CSVRow, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var rows []CSVRow
	sawHeader := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, `"`) {
			continue
		}
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			return nil, fmt.Errorf("redis-benchmark csv: %q: %w", line, err)
		}
		if rec[0] == "test" {
			if !slices.Equal(rec, csvHeader) {
				return nil, fmt.Errorf("redis-benchmark csv: unexpected header %q", rec)
			}
			sawHeader = true
			continue
		}
		if !sawHeader {
			return nil, fmt.Errorf("redis-benchmark csv: data before header: %q", line)
		}
		if len(rec) != len(csvHeader) {
			return nil, fmt.Errorf("redis-benchmark csv: want %d fields, got %d in %q", len(csvHeader), len(rec), line)
		}
		var nums [7]float64
		for i := range nums {
			v, err := strconv.ParseFloat(rec[i+1], 64)
			if err != nil {
				return nil, fmt.Errorf("redis-benchmark csv: field %s=%q: %w", csvHeader[i+1], rec[i+1], err)
			}
			nums[i] = v
		}
		rows = append(rows, CSVRow{rec[0], nums[0], nums[1], nums[2], nums[3], nums[4], nums[5], nums[6]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !sawHeader {
		return nil, errors.New("redis-benchmark csv: no header line")
	}
	if len(rows) == 0 {
		return nil, errors.New("redis-benchmark csv: no data rows")
	}
	return rows, nil
}

// RedisBenchmark runs one redis-benchmark test: either a built-in one
// (Tests, e.g. "set") or a custom command (Command, with __rand_int__
// placeholders), never both.
type RedisBenchmark struct {
	Tests   string
	Command []string
}

// Args is the full redis-benchmark argument list for one run. Options come
// first: in custom-command mode everything after the options is the command.
func (b RedisBenchmark) Args(rc RunContext) []string {
	args := []string{
		"-h", rc.Host, "-p", strconv.Itoa(rc.Port),
		"-c", strconv.Itoa(rc.Clients), "-P", strconv.Itoa(rc.Pipeline),
		"-n", strconv.Itoa(rc.Requests),
	}
	if rc.Keyspace > 0 {
		args = append(args, "-r", strconv.Itoa(rc.Keyspace))
	}
	args = append(args, "--csv")
	if len(b.Command) > 0 {
		return append(args, b.Command...)
	}
	return append(args, "-t", b.Tests)
}

// Describe is the command as shown by -list.
func (b RedisBenchmark) Describe() string {
	if len(b.Command) > 0 {
		return "redis-benchmark " + strings.Join(b.Command, " ")
	}
	return "redis-benchmark -t " + b.Tests
}

// Run executes redis-benchmark and parses its single CSV result row. A
// non-zero exit (redis-benchmark exits 1 on an error reply) or output
// without exactly one row fails the run, quoting the tool's output.
func (b RedisBenchmark) Run(ctx context.Context, rc RunContext) (Result, error) {
	cmd := exec.CommandContext(ctx, rc.RedisBenchmark, b.Args(rc)...)
	cmd.WaitDelay = 2 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("redis-benchmark: %w (output: %s)", ctx.Err(), clip(stdout.String()+stderr.String()))
	}
	if err != nil {
		return Result{}, fmt.Errorf("redis-benchmark: %w: %s", err, clip(stdout.String()+stderr.String()))
	}
	rows, err := parseCSV(&stdout)
	if err != nil {
		return Result{}, fmt.Errorf("%w (stderr: %s)", err, clip(stderr.String()))
	}
	if len(rows) != 1 {
		return Result{}, fmt.Errorf("redis-benchmark: want 1 csv row, got %d", len(rows))
	}
	r := rows[0]
	return Result{
		Requests: rc.Requests,
		Seconds:  elapsed.Seconds(), // includes process start; rps comes from the tool
		RPS:      r.RPS,
		AvgMs:    r.AvgMs,
		P50Ms:    r.P50Ms,
		P95Ms:    r.P95Ms,
		P99Ms:    r.P99Ms,
		MaxMs:    r.MaxMs,
	}, nil
}

// clip shortens tool output quoted in error messages.
func clip(s string) string {
	s = strings.TrimSpace(s)
	const limit = 600
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}
