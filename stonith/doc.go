// Package stonith holds what every fencing device has in common: the Device
// interface, actions, results, the errors a fencer can act on, and the
// Pacemaker rules that map a cluster node to a device's "plug"
// (pcmk_host_map, pcmk_host_list, pcmk_host_check).
//
// The devices themselves live in sub-packages, each speaking to the real
// thing with no shell agent in between:
//
//   - stonith/xvm: the fence_xvm protocol to fence_virtd on a libvirt host
//     (signed multicast or unicast UDP request, TCP callback with a two-way
//     challenge–response; or fence_virtd's TCP listener).
//   - stonith/libvirt: a small libvirt RPC client of its own (destroy,
//     create, lookup, state, list) over libvirtd's unix socket or TCP.
//   - stonith/external: any installed fence_* agent through the standard
//     stdin key=value protocol, plus its meta-data.
//   - stonith/devices: agent name + parameters → Device and Targeting.
//   - stonith/fencehost: the fence_virtd side (cmd/fence-host), over the
//     same libvirt client.
//
// # How the fencer uses this package
//
// The fencer inside pacerd (not here yet) owns the policy; this package owns
// only mechanism. For a request "fence node N with action A" it will:
//
//  1. For each configured stonith resource, call devices.Open(ctx, agent,
//     params) with the CIB parameters: it returns the Device (native for
//     fence_xvm and fence_libvirt, an external agent otherwise), the
//     agent's meta-data and the Targeting built from pcmk_host_map,
//     pcmk_host_list and pcmk_host_check. Specs are cheap values with no
//     background goroutines; build them once per CIB change.
//  2. Ask each device whether it can fence N: Targeting.Check says so at
//     once for static-list and none; for dynamic-list it asks the fencer to
//     call Device.List (cache the names for 60 s, as Pacemaker does) and
//     feed them to Targeting.Listed; for status it calls Device.Status on
//     Targeting.Plug(N) and feeds the result to Targeting.StatusSays.
//  3. Walk the fencing topology levels in order; in a level, call
//     Device.Fence(ctx, Targeting.Plug(N), A) on every device, each under
//     its own context deadline (pcmk_off_timeout/pcmk_reboot_timeout or
//     stonith-timeout). A level succeeds only if every device returns a nil
//     error; otherwise the next level is tried.
//  4. Record every attempt — device, target, plug, action, Result.Duration,
//     error text — in the CIB fence history. Errors wrap the sentinels in
//     errors.go, so the fencer can tell a refusal (ErrAuth, ErrPermission,
//     ErrNoSuchTarget) from a device that did not answer (ErrNoAnswer) and
//     retry only what is worth retrying.
//
// A successful Fence with ActionOff or ActionReboot means the device
// confirmed the target is (or was, for reboot) powered off; only then may
// the controller recover the node's resources elsewhere.
//
// Devices do not log: everything the caller needs is in the Result or the
// error, and the error text names the device, the target and the fix.
package stonith
