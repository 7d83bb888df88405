package store

import "pacer/crm/cib"

// Next returns the CIB that results from applying cmd to cur, with its
// version bumped, or an error. cur is never modified, so a rejected
// command leaves nothing half-written: the FSM keeps cur.
//
// Validation covers the whole configuration, not just the changed part,
// so no sequence of accepted commands can produce an invalid CIB.
func Next(cur *cib.CIB, cmd Command) (*cib.CIB, error) {
	next := cur.Clone()
	if next.Status.Nodes == nil {
		next.Status.Nodes = map[string]*cib.NodeStatus{}
	}
	if err := cmd.Apply(next); err != nil {
		return nil, err
	}
	if cmd.Section() == SectionConfig {
		if err := cib.Err(next.Config.Validate()); err != nil {
			return nil, err
		}
		next.Version.Epoch++
		next.Version.NumUpdates = 0
	} else {
		next.Version.NumUpdates++
	}
	return next, nil
}
