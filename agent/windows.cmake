# opsmerge-agent.exe for Windows x64 and its MSI, cross-compiled with mingw-w64.
# The top-level build configures this project a second time with
# cmake/mingw-w64-x86_64.cmake (an ExternalProject) and puts both files next to
# the server, which serves them.
set(OPSMERGE_AGENT_OUTPUT_DIR ${CMAKE_BINARY_DIR} CACHE PATH "Where the .exe and .msi go")
set(OPSMERGE_VERSION "1.0.0" CACHE STRING "The MSI's ProductVersion")

# nlohmann/json is header-only and portable: the host's copy, without the rest of
# /usr/include (glibc's headers must never reach the Windows build).
set(host_json ${CMAKE_BINARY_DIR}/host-json)
file(MAKE_DIRECTORY ${host_json})
if(NOT EXISTS ${host_json}/nlohmann)
  file(CREATE_LINK /usr/include/nlohmann ${host_json}/nlohmann SYMBOLIC)
endif()

set(agent ${CMAKE_SOURCE_DIR}/agent)
add_executable(opsmerge-agent
  ${agent}/core/agent.cpp ${agent}/core/background.cpp ${agent}/core/cli.cpp
  ${agent}/core/clock.cpp ${agent}/core/config.cpp ${agent}/core/inventory.cpp
  ${agent}/core/log.cpp
  ${agent}/platform/windows/collector.cpp ${agent}/platform/windows/files.cpp
  ${agent}/platform/windows/main.cpp ${agent}/platform/windows/parsers.cpp
  ${agent}/platform/windows/service.cpp ${agent}/platform/windows/winhttp_transport.cpp)
target_include_directories(opsmerge-agent PRIVATE ${CMAKE_SOURCE_DIR}/agent ${CMAKE_SOURCE_DIR}/src)
target_include_directories(opsmerge-agent SYSTEM PRIVATE ${host_json})
target_compile_definitions(opsmerge-agent PRIVATE UNICODE _UNICODE NOMINMAX
  _WIN32_WINNT=0x0A00 WINVER=0x0A00)
target_compile_options(opsmerge-agent PRIVATE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual -Wformat=2
  -Wimplicit-fallthrough $<$<BOOL:${OPSMERGE_WERROR}>:-Werror>
  -Os -ffunction-sections -fdata-sections)
# Static: the C++ runtime and winpthreads inside; only DLLs every Windows 10/11
# and Server 2016+ has (kernel32, advapi32, winhttp, iphlpapi, ws2_32, wtsapi32,
# ole32, oleaut32, shell32; msvcrt).
target_link_options(opsmerge-agent PRIVATE -static -s -Wl,--gc-sections)
target_link_libraries(opsmerge-agent PRIVATE winhttp iphlpapi ws2_32 wtsapi32 ole32 oleaut32
  shell32 uuid advapi32)
set_target_properties(opsmerge-agent PROPERTIES RUNTIME_OUTPUT_DIRECTORY
  ${OPSMERGE_AGENT_OUTPUT_DIR})

find_program(WIXL wixl)
if(WIXL)
  set(msi ${OPSMERGE_AGENT_OUTPUT_DIR}/opsmerge-agent.msi)
  add_custom_command(OUTPUT ${msi}
    COMMAND ${WIXL} --arch x64 -D Version=${OPSMERGE_VERSION}
      -D AgentExe=$<TARGET_FILE_NAME:opsmerge-agent> -o ${msi}
      ${CMAKE_SOURCE_DIR}/agent/platform/windows/opsmerge-agent.wxs
    # wixl takes a source file's name relative to where it runs.
    WORKING_DIRECTORY $<TARGET_FILE_DIR:opsmerge-agent>
    DEPENDS opsmerge-agent ${CMAKE_SOURCE_DIR}/agent/platform/windows/opsmerge-agent.wxs
    COMMENT "Building opsmerge-agent.msi with wixl")
  add_custom_target(opsmerge-agent-msi ALL DEPENDS ${msi})
else()
  message(WARNING "wixl (msitools) not found: no opsmerge-agent.msi")
endif()
