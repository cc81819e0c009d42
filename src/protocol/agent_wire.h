#pragma once

// The agent API's wire names, shared by the server (src/rmm) and the agent
// (agent/core), so neither side spells a path or a member on its own. Header-only,
// no dependencies: the agent includes it without any other server header.
namespace opsmerge::wire {

inline constexpr char kEnrollPath[] = "/agent/v1/enroll";
inline constexpr char kCheckinPath[] = "/agent/v1/checkin";
// Authorization: Agent <agent_id>:<secret>
inline constexpr char kAuthScheme[] = "Agent ";

// Enrolment request.
inline constexpr char kToken[] = "token";
inline constexpr char kHostname[] = "hostname";
inline constexpr char kInventory[] = "inventory";
inline constexpr char kInventoryHash[] = "inventory_hash";
// Enrolment reply.
inline constexpr char kAgentId[] = "agent_id";
inline constexpr char kSecret[] = "secret";
inline constexpr char kClientId[] = "client_id";
inline constexpr char kSiteId[] = "site_id";
inline constexpr char kCheckinInterval[] = "checkin_interval";
// Check-in request (plus kInventory and kInventoryHash when it changed).
inline constexpr char kMetrics[] = "metrics";
inline constexpr char kCpuPercent[] = "cpu_percent";
inline constexpr char kMemoryPercent[] = "memory_percent";
inline constexpr char kDiskPercent[] = "disk_percent";
// Check-in reply: kCheckinInterval and kInventoryHash (what the server holds).

// Inventory members.
inline constexpr char kOs[] = "os";
inline constexpr char kCpu[] = "cpu";
inline constexpr char kMemoryBytes[] = "memory_bytes";
inline constexpr char kDisks[] = "disks";
inline constexpr char kNetwork[] = "network";
inline constexpr char kHardware[] = "hardware";
inline constexpr char kUptimeSeconds[] = "uptime_seconds";
inline constexpr char kUsers[] = "users";
inline constexpr char kSoftware[] = "software";
inline constexpr char kPendingUpdates[] = "pending_updates";  // null: not known (yet)
inline constexpr char kMachineId[] = "machine_id";            // stable machine identity

// Bounds both sides keep.
inline constexpr long kMinInterval = 1;
inline constexpr long kMaxInterval = 3600;

}  // namespace opsmerge::wire
