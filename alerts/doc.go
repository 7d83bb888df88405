// Package alerts runs alert agents: Pacemaker's contract of an external
// program called once per recipient for each cluster event (node,
// fencing, resource, attribute), with the event in CRM_alert_* (and the
// older CRM_notify_*) environment variables.
//
// It runs agents and reports how they ended; it does not decide which
// events happen or which node sends them (pacerd does), and it never
// blocks the caller: agents run in the background under a timeout, and
// a hung agent is killed with its whole process group.
package alerts
