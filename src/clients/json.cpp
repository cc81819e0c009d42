#include "clients/json.h"

#include "platform/clock.h"

namespace opsmerge::clients {

namespace {
nlohmann::json OrNull(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}
}  // namespace

nlohmann::json LinkJson(const ClientLink& link) {
  return {{"id", link.id},
          {"client_id", link.other_client_id},
          {"name", link.other_name},
          {"label", link.label},
          {"inverse_label", link.inverse_label},
          {"direction", link.direction},
          {"shown_label", link.shown_label()}};
}

nlohmann::json CountsJson(const ClientCounts& counts) {
  nlohmann::json out = {{"contacts", counts.contacts}, {"sites", counts.sites}};
  for (const auto& [key, n] : counts.owned) out[key] = n;
  return out;
}

nlohmann::json ClientJson(const Client& c, const std::vector<ClientLink>& links,
                          const ClientCounts& counts) {
  nlohmann::json l = nlohmann::json::array();
  for (const auto& link : links) l.push_back(LinkJson(link));
  return {{"id", c.id},
          {"name", c.name},
          {"domain", OrNull(c.domain)},
          {"domains", c.domains},
          {"contact_email", OrNull(c.contact_email)},
          {"notes", c.notes},
          {"archived", c.archived()},
          {"archived_at", OrNull(c.archived_at)},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at},
          {"m365_tenant_id", OrNull(c.m365_tenant_id)},
          {"m365_synced_at", OrNull(c.m365_synced_at)},
          {"links", l},
          {"counts", CountsJson(counts)}};
}

nlohmann::json ClientJson(const ClientDetail& d) { return ClientJson(d.client, d.links, d.counts); }

nlohmann::json ContactJson(const Contact& c) {
  return {{"id", c.id},
          {"client_id", c.client_id},
          {"name", c.name},
          {"email", c.email},
          {"phone", c.phone},
          {"job_title", c.job_title},
          {"vip", c.roles.vip},
          {"portal_user", c.roles.portal_user},
          {"billing_recipient", c.roles.billing_recipient},
          {"primary_technical", c.roles.primary_technical},
          {"active", c.active},
          {"source", c.source},
          {"m365_user_id", OrNull(c.m365_user_id)},
          {"last_portal_sign_in_at", c.last_portal_sign_in
                                         ? nlohmann::json(FormatIsoUtc(*c.last_portal_sign_in))
                                         : nlohmann::json()}};
}

nlohmann::json SiteJson(const Site& s) {
  return {{"id", s.id},
          {"client_id", s.client_id},
          {"name", s.name},
          {"address", s.address},
          {"notes", s.notes}};
}

nlohmann::json ImportReportJson(const ImportReport& report) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : report.rows) {
    const char* outcome = r.outcome == ImportRow::Outcome::kNew       ? "new"
                          : r.outcome == ImportRow::Outcome::kSkipped ? "skipped"
                                                                      : "error";
    rows.push_back({{"line", r.line},
                    {"values", r.values},
                    {"outcome", outcome},
                    {"is_new", r.outcome == ImportRow::Outcome::kNew},
                    {"is_skipped", r.outcome == ImportRow::Outcome::kSkipped},
                    {"is_error", r.outcome == ImportRow::Outcome::kError},
                    {"field", r.field},
                    {"message", r.message}});
  }
  return {{"kind", report.kind},
          {"columns", report.columns},
          {"ignored", report.ignored},
          {"rows", rows},
          {"created", report.created},
          {"skipped", report.skipped},
          {"errors", report.errors},
          {"written", report.written},
          {"has_ignored", !report.ignored.empty()},
          {"has_errors", report.errors > 0}};
}

}  // namespace opsmerge::clients
