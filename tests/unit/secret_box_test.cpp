// Secrets at rest: only the key that sealed a value opens it, and any change to
// the stored text is detected.
#include "platform/secret_box.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/crypto.h"

namespace opsmerge {
namespace {

TEST(SecretBox, OpensWhatItSealedAndNothingElse) {
  crypto::InitCrypto();
  SecretBox box = SecretBox::FromKey(std::string(32, 'k'));
  std::string sealed = box.Seal("S3cret pass");
  EXPECT_EQ(sealed.rfind("v1:", 0), 0u);
  EXPECT_EQ(sealed.find("S3cret"), std::string::npos);
  EXPECT_NE(box.Seal("S3cret pass"), sealed) << "a fresh nonce each time";
  EXPECT_EQ(box.Open(sealed), "S3cret pass");
  std::string tampered = sealed;
  tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(box.Open(tampered).has_value());
  EXPECT_FALSE(SecretBox::FromKey(std::string(32, 'x')).Open(sealed).has_value());
  EXPECT_FALSE(box.Open("S3cret pass").has_value());
  EXPECT_FALSE(box.Open("v1:!!!").has_value());
}

TEST(SecretBox, TheKeyFileIsCreatedPrivateAndRefusedWhenOthersCanReadIt) {
  crypto::InitCrypto();
  std::string dir =
      std::filesystem::temp_directory_path() / ("opsmerge-key-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  SecretBox first = SecretBox::Load(dir);  // creates the directory and the key
  struct stat st {};
  ASSERT_EQ(stat((dir + "/secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(SecretBox::Load(dir).Open(first.Seal("x")), "x") << "the same key next start";
  chmod((dir + "/secret.key").c_str(), 0644);
  EXPECT_THROW(SecretBox::Load(dir), std::runtime_error);
  chmod((dir + "/secret.key").c_str(), 0600);
  std::ofstream(dir + "/secret.key") << "not hex\n";
  EXPECT_THROW(SecretBox::Load(dir), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace opsmerge
