package scheduler

import "pacer/crm/cib"

// slab hands out pointers into chunks of T. A transition over 10,000
// resources makes hundreds of thousands of resources, actions and
// relations that all die together when Schedule returns; one allocation
// per chunk instead of per object leaves the garbage collector, which
// also has to scan the whole CIB while it runs, far less to do.
// Chunks never grow in place, so pointers stay valid.
type slab[T any] struct {
	buf  []T
	next int // size of the next chunk
}

func (sl *slab[T]) new() *T {
	if len(sl.buf) == cap(sl.buf) {
		// Small inputs stay small; large ones soon get large chunks.
		sl.next = min(max(2*sl.next, 16), 4096)
		sl.buf = make([]T, 0, sl.next)
	}
	sl.buf = sl.buf[:len(sl.buf)+1]
	return &sl.buf[len(sl.buf)-1]
}

// tables hands out score tables (one score per node) cut from shared
// chunks, and keeps the scratch tables of colocation merging for reuse.
type tables struct {
	width int
	buf   []cib.Score
	free  []scoreTable
}

// table returns a table with every node set to fill.
func (tb *tables) table(fill cib.Score) scoreTable {
	if len(tb.buf) < tb.width {
		tb.buf = make([]cib.Score, max(tb.width*256, 1024))
	}
	t := tb.buf[:tb.width:tb.width]
	tb.buf = tb.buf[tb.width:]
	for i := range t {
		t[i] = fill
	}
	return t
}

// scratch returns a copy of t to work on; give it back with release once
// nothing refers to it.
func (tb *tables) scratch(t scoreTable) scoreTable {
	var c scoreTable
	if n := len(tb.free); n > 0 && len(tb.free[n-1]) == len(t) {
		c = tb.free[n-1]
		tb.free = tb.free[:n-1]
	} else {
		c = make(scoreTable, len(t))
	}
	copy(c, t)
	return c
}

func (tb *tables) release(t scoreTable) {
	tb.free = append(tb.free, t)
}
