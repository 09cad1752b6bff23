package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// The server's log is buffered: the request log writes a line per
// request, and a write(2) for each cost about 2 % of the CPU of a
// personal-link page under load (docs/BENCHMARKS.md). Lines reach the
// output within logFlushEvery, at once after a warning or an error, and
// when the command returns; a process killed outright loses at most the
// last logFlushEvery of information lines.

// logFlushEvery is how long an information line may wait in the buffer.
const logFlushEvery = 100 * time.Millisecond

// logBuffer is an io.Writer that buffers its output and flushes it
// every logFlushEvery until closed.
type logBuffer struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newLogBuffer(out io.Writer) *logBuffer { return newLogBufferEvery(out, logFlushEvery) }

// newLogBufferEvery is newLogBuffer flushing every d (tests).
func newLogBufferEvery(out io.Writer, d time.Duration) *logBuffer {
	b := &logBuffer{w: bufio.NewWriterSize(out, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.Flush()
			}
		}
	}()
	return b
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Flush writes out what is buffered.
func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Flush()
}

// Close stops the periodic flush and flushes. Writes after it still go
// to the buffer, so call Flush after any late ones.
func (b *logBuffer) Close() error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
		<-b.done
	}
	return b.Flush()
}

// flushingHandler flushes the log buffer after each record of warning
// level or above, so problems are never held back.
type flushingHandler struct {
	slog.Handler
	buf *logBuffer
}

func (h flushingHandler) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		if ferr := h.buf.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

func (h flushingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushingHandler{h.Handler.WithAttrs(attrs), h.buf}
}

func (h flushingHandler) WithGroup(name string) slog.Handler {
	return flushingHandler{h.Handler.WithGroup(name), h.buf}
}
