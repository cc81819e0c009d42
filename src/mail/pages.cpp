#include "mail/routes.h"
#include "staff/model.h"

namespace opsmerge::mail {

void RegisterPages(http::Router& router, Gateway& gateway) {
  router.Add("GET", "/tickets/{id}/entries/{entry}/original", [&gateway](http::Request& req) {
    int64_t ticket = req.ParamId(0, "Ticket");
    int64_t entry = req.ParamId(1, "Message");
    std::string raw = gateway.Original(staff::ActorFrom(req), ticket, entry);
    return http::Response::Download(
        std::move(raw),
        "ticket-" + std::to_string(ticket) + "-message-" + std::to_string(entry) + ".eml",
        "message/rfc822");
  });
}

}  // namespace opsmerge::mail
