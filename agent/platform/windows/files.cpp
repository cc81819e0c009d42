// The agent's files on Windows: %ProgramData%\OpsMerge, readable and writable by
// SYSTEM and Administrators only (a protected DACL: nothing inherited from
// ProgramData, whose default lets every user read).
#include "core/files.h"

// clang-format off
#include <windows.h>
#include <knownfolders.h>
#include <sddl.h>
#include <shlobj.h>
// clang-format on

#include "platform/windows/wide.h"

namespace opsmerge::agent {

namespace {

// SYSTEM and the Administrators group: full control, inherited by the files within.
constexpr wchar_t kSecretSddl[] = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

class SecurityAttributes {
 public:
  SecurityAttributes() {
    ok_ = ConvertStringSecurityDescriptorToSecurityDescriptorW(kSecretSddl, SDDL_REVISION_1,
                                                               &descriptor_, nullptr) != 0;
    attributes_.nLength = sizeof attributes_;
    attributes_.lpSecurityDescriptor = descriptor_;
    attributes_.bInheritHandle = FALSE;
  }
  ~SecurityAttributes() {
    if (descriptor_) LocalFree(descriptor_);
  }
  SecurityAttributes(const SecurityAttributes&) = delete;
  SecurityAttributes& operator=(const SecurityAttributes&) = delete;
  bool ok() const { return ok_; }
  SECURITY_ATTRIBUTES* get() { return &attributes_; }

 private:
  PSECURITY_DESCRIPTOR descriptor_ = nullptr;
  SECURITY_ATTRIBUTES attributes_{};
  bool ok_ = false;
};

}  // namespace

std::string DefaultConfigPath() {
  // The known folder, not the environment: a service's environment is not a user's.
  std::string base = "C:\\ProgramData";
  wchar_t* path = nullptr;
  if (SUCCEEDED(SHGetKnownFolderPath(FOLDERID_ProgramData, 0, nullptr, &path)) && path) {
    base = windows::Utf8(path, wcslen(path));
  }
  CoTaskMemFree(path);
  return base + "\\OpsMerge\\agent.json";
}

bool WriteSecretFile(const std::string& path, const std::string& text, std::string* error) {
  SecurityAttributes sa;
  if (!sa.ok()) {
    if (error) *error = "cannot build the file's ACL: " + windows::ErrorText(GetLastError());
    return false;
  }
  std::wstring wpath = windows::Wide(path);
  size_t slash = wpath.find_last_of(L"\\/");
  if (slash != std::wstring::npos && slash > 0) {
    // New directory: SYSTEM and Administrators only. An existing one keeps its ACL
    // (an MSP may have set its own), but the file itself always gets ours.
    CreateDirectoryW(wpath.substr(0, slash).c_str(), sa.get());
  }
  std::wstring tmp = wpath + L".tmp";
  HANDLE f = CreateFileW(tmp.c_str(), GENERIC_WRITE, 0, sa.get(), CREATE_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE) {
    if (error) *error = "cannot write " + path + ".tmp: " + windows::ErrorText(GetLastError());
    return false;
  }
  DWORD written = 0;
  bool ok = WriteFile(f, text.data(), static_cast<DWORD>(text.size()), &written, nullptr) &&
            written == text.size();
  ok = FlushFileBuffers(f) && ok;
  CloseHandle(f);
  if (!ok || !MoveFileExW(tmp.c_str(), wpath.c_str(),
                          MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    if (error) *error = "cannot write " + path + ": " + windows::ErrorText(GetLastError());
    DeleteFileW(tmp.c_str());
    return false;
  }
  return true;
}

bool ReadFile(const std::string& path, std::string* text) {
  HANDLE f = CreateFileW(windows::Wide(path).c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (f == INVALID_HANDLE_VALUE) return false;
  std::string out;
  char buf[8192];
  DWORD got = 0;
  while (::ReadFile(f, buf, sizeof buf, &got, nullptr) && got > 0) {
    out.append(buf, got);
    if (out.size() > (16u << 20)) break;  // no file of ours is that large
  }
  CloseHandle(f);
  *text = std::move(out);
  return true;
}

}  // namespace opsmerge::agent
