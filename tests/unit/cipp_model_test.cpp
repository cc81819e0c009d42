#include <gtest/gtest.h>

#include "cipp/model.h"

namespace opsmerge::cipp {
namespace {

TEST(CippModel, TenantsSkipAllTenantsAndThePartnerAndKeepTheirKeys) {
  auto t = ParseTenants(R"([
    {"customerId": "AllTenants", "displayName": "*All Tenants"},
    {"customerId": "5C3D4E5F-6A7B-4C8D-8E9F-1A2B3C4D5E04", "displayName": "Us", "domains": "PartnerTenant"},
    {"customerId": "2F0C1A64-7D7E-4B7E-9A8E-0C1D2E3F4A01", "displayName": " Contoso Ltd ",
     "defaultDomainName": "Contoso.com", "initialDomainName": "contoso.onmicrosoft.com",
     "domains": "contoso.com, contoso.onmicrosoft.com", "unknown": {"x": [1, 2]}},
    {"customerId": "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c02", "displayName": null,
     "defaultDomainName": "fabrikam.co.uk"}])");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0].id, "2f0c1a64-7d7e-4b7e-9a8e-0c1d2e3f4a01");
  EXPECT_EQ(t[0].display_name, "Contoso Ltd");
  EXPECT_EQ(t[0].default_domain, "contoso.com");
  EXPECT_EQ(t[0].initial_domain, "contoso.onmicrosoft.com");
  EXPECT_EQ(t[1].display_name, "fabrikam.co.uk") << "no name: its domain stands in";
}

TEST(CippModel, CippsFailureShapesAndMalformedAnswersAreErrors) {
  try {
    ParseTenants(R"([{"customerId": "", "Results": "Failed to retrieve tenants: 403"}])");
    ADD_FAILURE() << "an error as 200 was taken for data";
  } catch (const CippError& e) {
    EXPECT_STREQ(e.what(), "CIPP: Failed to retrieve tenants: 403");
  }
  EXPECT_THROW(ParseUsers(R"([{"Results": "Could not connect to tenant"}])"), CippError);
  EXPECT_THROW(ParseTenants("{\"value\": []}"), CippError) << "not a bare array";
  EXPECT_THROW(ParseTenants("[{\"customerId\": "), CippError);
  EXPECT_THROW(ParseUsers("[1, 2]"), CippError);
  EXPECT_THROW(ParseUsers(R"([{"displayName": "no id"}])"), CippError);
  EXPECT_TRUE(ParseUsers("[]").empty());
}

TEST(CippModel, UsersReadNullsAsEmptyAndTheImportRulesPickPeople) {
  auto u = ParseUsers(R"([
    {"id": "A1", "accountEnabled": true, "displayName": null, "givenName": "Ann",
     "surname": "Archer", "mail": null, "userPrincipalName": "Ann@Contoso.com",
     "jobTitle": null, "mobilePhone": null, "businessPhones": [null, "", "+44 20 1"],
     "assignedLicenses": [{"skuId": "x"}], "userType": "Member", "newThing": 1},
    {"id": "b2", "accountEnabled": false, "displayName": "Bob", "mail": "bob@contoso.com",
     "assignedLicenses": [{"skuId": "x"}]},
    {"id": "c3", "accountEnabled": true, "displayName": "Cat", "mail": "cat@contoso.com",
     "mobilePhone": "+44 7700 900000", "businessPhones": ["+44 20 2"], "assignedLicenses": []},
    {"id": "d4", "accountEnabled": true, "displayName": "Guest", "mail": "g@x.example",
     "assignedLicenses": [{"skuId": "x"}], "userType": "Guest"},
    {"id": "e5", "accountEnabled": "yes", "displayName": "Odd", "mail": "not an address",
     "userPrincipalName": null, "assignedLicenses": [{"skuId": "x"}]}])");
  ASSERT_EQ(u.size(), 5u);
  EXPECT_EQ(u[0].id, "a1");
  EXPECT_EQ(EmailOf(u[0]), "ann@contoso.com") << "the UPN when there is no mail";
  EXPECT_EQ(NameOf(u[0]), "Ann Archer");
  EXPECT_EQ(PhoneOf(u[0]), "+44 20 1") << "the first business phone that is one";
  EXPECT_EQ(PhoneOf(u[2]), "+44 7700 900000") << "mobile first";
  EXPECT_TRUE(Wanted(u[0], ImportMode::kLicensedEnabled));
  EXPECT_FALSE(Wanted(u[1], ImportMode::kAllEnabled)) << "disabled";
  EXPECT_FALSE(Wanted(u[2], ImportMode::kLicensedEnabled)) << "no licence";
  EXPECT_TRUE(Wanted(u[2], ImportMode::kAllEnabled));
  EXPECT_FALSE(Wanted(u[3], ImportMode::kAllEnabled)) << "a guest is not the client's person";
  EXPECT_FALSE(Wanted(u[4], ImportMode::kAllEnabled)) << "no valid address, enabled not a bool";
}

TEST(CippModel, TheTokenUrlTakesTheTenant) {
  EXPECT_EQ(TokenUrl("", "contoso.onmicrosoft.com"),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  EXPECT_EQ(TokenUrl("https://login.microsoftonline.us/{tenant_id}/oauth2/v2.0/token", "t"),
            "https://login.microsoftonline.us/t/oauth2/v2.0/token");
  EXPECT_EQ(TokenUrl("http://127.0.0.1:9/token", "t"), "http://127.0.0.1:9/token");
  EXPECT_EQ(ParseImportMode("all_enabled"), ImportMode::kAllEnabled);
  EXPECT_EQ(ParseImportMode("nonsense"), ImportMode::kLicensedEnabled);
}

}  // namespace
}  // namespace opsmerge::cipp
