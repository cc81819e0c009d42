#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "platform/text.h"
#include "staff/model.h"

// Passwords people pick, from the shapes that top every breached-password list
// (NCSC's "100k most common", RockYou): a dictionary word or name with digits and
// symbols around it, a keyboard walk, a counting run, a repeated unit. Only ones
// of 12+ characters matter, as shorter ones are refused anyway.
namespace opsmerge::staff {

namespace {

// Whole passwords (folded), 12+ characters.
constexpr std::array<std::string_view, 64> kBlocked = {
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789012345",
    "1234567890qwerty",
    "qwertyuiop12",
    "qwertyuiopasdf",
    "qwertyuiopasdfgh",
    "qwertyuiopasdfghjkl",
    "1q2w3e4r5t6y",
    "1q2w3e4r5t6y7u8i",
    "q1w2e3r4t5y6",
    "1qaz2wsx3edc",
    "1qaz2wsx3edc4rfv",
    "zaq12wsxcde3",
    "zaq1zaq1zaq1",
    "qazwsxedcrfv",
    "qazwsxedcrfvtgb",
    "asdfghjkl123",
    "zxcvbnm12345",
    "zxcvbnmasdfg",
    "1234qwerasdf",
    "1234qwerasdfzxcv",
    "qwer1234asdf",
    "passwordpassword",
    "password1password1",
    "mypassword123",
    "mypassword1234",
    "secretpassword",
    "mysecretpassword",
    "letmeinletmein",
    "welcomewelcome",
    "iloveyouiloveyou",
    "trustno1trustno1",
    "adminadminadmin",
    "changemechangeme",
    "correcthorsebatterystaple",
    "correct horse battery staple",
    "thequickbrownfox",
    "the quick brown fox",
    "iloveyousomuch",
    "ihateyouihateyou",
    "givemeaccess",
    "letmeinplease",
    "opensesame123",
    "masterpassword",
    "superpassword",
    "defaultpassword",
    "temporarypassword",
    "newpassword123",
    "password for opsmerge",
    "abcdefghijkl",
    "abcdefghijklm",
    "abcdefghijklmnop",
    "abcdefgh1234",
    "abcd12345678",
    "abc123abc123",
    "a1b2c3d4e5f6",
    "aa123456789012",
    "00000000000000",
    "0123456789012",
    "098765432109",
    "987654321098",
    "9876543210987",
};

// Words that, padded with digits or symbols, make most of the rest.
constexpr std::array<std::string_view, 60> kWords = {
    "password",  "passwort",  "motdepasse", "qwerty",   "qwertyuiop", "azerty",        "asdfgh",
    "asdfghjkl", "zxcvbnm",   "welcome",    "letmein",  "admin",      "administrator", "root",
    "changeme",  "default",   "iloveyou",   "monkey",   "dragon",     "football",      "baseball",
    "soccer",    "hockey",    "princess",   "sunshine", "superman",   "batman",        "starwars",
    "trustno",   "master",    "shadow",     "michael",  "jennifer",   "jessica",       "charlie",
    "summer",    "winter",    "spring",     "autumn",   "january",    "february",      "september",
    "october",   "november",  "december",   "opsmerge", "secret",     "computer",      "internet",
    "samsung",   "liverpool", "chelsea",    "arsenal",  "manchester", "london",        "england",
    "freedom",   "whatever",  "qazwsx",     "login",
};

// a@ -> a, 0 -> o, 1/! -> i, 3 -> e, $5 -> s, 4 -> a, 7 -> t
char Unleet(char c) {
  switch (c) {
    case '@':
    case '4':
      return 'a';
    case '0':
      return 'o';
    case '1':
    case '!':
      return 'i';
    case '3':
      return 'e';
    case '$':
    case '5':
      return 's';
    case '7':
      return 't';
    default:
      return c;
  }
}

bool IsLetter(char c) { return c >= 'a' && c <= 'z'; }

// "aaaa", "abcabcabc", "123123123": the text is one unit of up to 4 repeated.
bool IsRepetition(std::string_view s) {
  for (size_t unit = 1; unit <= 4 && unit * 2 < s.size() + 1; ++unit) {
    bool same = true;
    for (size_t i = unit; i < s.size() && same; ++i) same = s[i] == s[i - unit];
    if (same) return true;
  }
  return false;
}

// "abcdefghijkl", "987654321098": each character one more (or less) than the last,
// wrapping 9 -> 0.
bool IsRun(std::string_view s) {
  int up = 0, down = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    int d = s[i] - s[i - 1];
    if (d == 1 || (s[i - 1] == '9' && s[i] == '0')) ++up;
    if (d == -1 || (s[i - 1] == '0' && s[i] == '9')) ++down;
  }
  size_t steps = s.size() - 1;
  return static_cast<size_t>(up) == steps || static_cast<size_t>(down) == steps;
}

}  // namespace

bool IsCommonPassword(std::string_view password) {
  std::string folded = text::FoldCase(text::Trim(password));
  for (std::string_view blocked : kBlocked) {
    if (folded == blocked) return true;
  }
  if (IsRepetition(folded) || IsRun(folded)) return true;
  // A common word with only digits and symbols around it: "Password1234!",
  // "P@ssw0rd2025", "Summer2025!!!", "!!welcome!!123". Leetspeak is read as
  // letters to find the word; what is around it must hold no letter at all.
  std::string unleet;
  for (char c : folded) unleet += Unleet(c);
  auto no_letters = [&](size_t from, size_t to) {
    for (size_t i = from; i < to; ++i) {
      if (IsLetter(folded[i])) return false;
    }
    return true;
  };
  for (std::string_view word : kWords) {
    for (const std::string& form : {std::string(word), std::string(word) + std::string(word)}) {
      for (size_t at = unleet.find(form); at != std::string::npos; at = unleet.find(form, at + 1)) {
        if (no_letters(0, at) && no_letters(at + form.size(), folded.size())) return true;
      }
    }
  }
  // Letters that are a repeat or a run ("aaaa1234", "abcd!!!!2025").
  std::string letters;
  for (char c : folded) {
    if (IsLetter(c)) letters += c;
  }
  if (letters.size() >= 4 && (IsRepetition(letters) || IsRun(letters))) return true;
  return false;
}

}  // namespace opsmerge::staff
