// Package mon is the live status view of 'pcsctl mon' and the one-shot
// outputs of 'pcsctl status': the screen is a pure function of a status
// snapshot (Render), so it is tested with golden text; the bubbletea
// model around it only keeps UI state (selection, filter, toggles) and
// the snapshots the watch stream brings. It talks to pacerd through the
// api package only, and never polls: a new snapshot is read when the
// node says something changed.
package mon
