#include "mail/mime.h"
#include "mail/model.h"
#include "mail/routes.h"
#include "platform/crypto.h"
#include "platform/errors.h"
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

size_t DeliveryBodyLimit() { return Limits{}.max_message_bytes + 1; }

void RegisterDelivery(http::Router& router, Gateway& gateway, std::string key_hash) {
  router.Add(
      "POST", "/mail/v1/ingest",
      [&gateway, key_hash = std::move(key_hash)](http::Request& req) {
        if (req.remote_ip != "127.0.0.1" && req.remote_ip != "::1") throw NotFound("Page");
        std::string auth = req.Header("authorization");
        std::string sent = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
        if (sent.empty() || !crypto::ConstantTimeEquals(crypto::HashToken(sent), key_hash)) {
          throw Unauthorized("Send the delivery key of this server's data directory");
        }
        try {
          Outcome out = gateway.Ingest(req.body);
          return http::Response::Text(std::string(OutcomeName(out.kind)) + ": " + out.detail +
                                      "\n");
        } catch (const NotAMessage& e) {
          return http::Response::Text(std::string(e.what()) + "\n", 422);
        }
      },
      http::Access::kAgent);  // a program on this host with its own key: no cookies, no CSRF
  router.AllowBody("POST", "/mail/v1/ingest", DeliveryBodyLimit());
}

}  // namespace opsmerge::mail
