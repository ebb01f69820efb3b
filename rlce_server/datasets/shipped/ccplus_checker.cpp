// Code-Contests-Plus as CodeContests-O evaluates it (src/codecontests_o/utils/helpers.py
// check_output_equal, then core/validator.py): the output is accepted without the
// checker when it equals the answer as text (both stripped and lower-cased; else
// lines right-stripped; else empty lines dropped); only otherwise does the row's
// testlib checker (row_checker.cpp, `checker input output answer`) decide.
#include "testlib.h"

#define main rlce_row_checker_main
#include "row_checker.cpp"
#undef main

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace rlce_ccplus {

std::string slurp(const char* path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string strip_lower(const std::string& text) {
    size_t b = 0, e = text.size();
    while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
    std::string out = text.substr(b, e - b);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<std::string> rstripped_lines(const std::string& text, bool drop_empty) {
    std::vector<std::string> lines;
    std::string line;
    std::istringstream in(text);
    while (std::getline(in, line)) {
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
        if (!drop_empty || !line.empty()) lines.push_back(line);
    }
    return lines;
}

bool text_equal(const char* output, const char* answer) {
    std::string got = strip_lower(slurp(output)), want = strip_lower(slurp(answer));
    if (got == want) return true;
    if (rstripped_lines(got, false) == rstripped_lines(want, false)) return true;
    return rstripped_lines(got, true) == rstripped_lines(want, true);
}

}  // namespace rlce_ccplus

int main(int argc, char* argv[]) {
    // _Exit: testlib's exit-time check fails a checker that never registered
    if (argc >= 4 && rlce_ccplus::text_equal(argv[2], argv[3])) std::_Exit(0);
    return rlce_row_checker_main(argc, argv);
}
