// crawler — the lecture's image crawler, against a real local HTTP server instead of the internet.
//
// A cpp-httplib server on 127.0.0.1 (ephemeral port) serves generated listing pages
// (/4kdongman/, /4kdongman/index_2.html ... index_5.html), detail pages and image bytes (with a
// small delay per image, like a real network). The crawler fetches with libcurl, parses with
// libxml2's HTML parser and the lecture's XPath expressions, writes the title -> image URL index
// as JSON, and downloads the images sequentially, with threads and with processes, printing the
// timing table. The lecture's shared `count += 1` is kept unlocked (--count unlocked: lockgraph
// reports data_race on count) or fixed under a mutex (--count locked: clean). In process mode every
// process has its own counter — the demo says so.
#include <curl/curl.h>
#include <httplib.h>
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <lockgraph/lockgraph.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kPages = 5;

// --- the local site -----------------------------------------------------------------------------

std::string listing_page(int page, int per_page) {
  std::string html = "<html><head><title>4K anime wallpapers, page " + std::to_string(page) +
                     "</title></head><body><div class=\"slist\"><ul class=\"clearfix\">";
  for (int i = 0; i < per_page; ++i) {
    int id = page * 100 + i;
    html += "<li><a href=\"/tupian/" + std::to_string(id) + ".html\" target=\"_blank\"><img src=\"/uploads/thumb/" +
            std::to_string(id) + ".jpg\" alt=\"Wallpaper " + std::to_string(id) + "\"><b>Wallpaper " +
            std::to_string(id) + "</b></a></li>";
  }
  return html + "</ul></div></body></html>";
}

std::string detail_page(const std::string& id) {
  return "<html><body><div class=\"photo\"><div class=\"photo-pic\"><a href=\"\" id=\"img\"><img src=\"/uploads/allimg/" +
         id + ".jpg\" alt=\"Wallpaper " + id + "\" title=\"Wallpaper " + id + "\"></a></div></div></body></html>";
}

std::string image_bytes(const std::string& id, std::size_t size) {
  std::string bytes(size, '\0');
  std::uint32_t x = 2166136261u;
  for (char c : id) x = (x ^ std::uint8_t(c)) * 16777619u;
  for (auto& b : bytes) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = char(x & 0xff);
  }
  return bytes;
}

class LocalSite {
 public:
  LocalSite(int per_page, int image_delay_ms) {
    server_.Get("/4kdongman/", [per_page](const httplib::Request&, httplib::Response& res) {
      res.set_content(listing_page(1, per_page), "text/html");
    });
    server_.Get(R"(/4kdongman/index_(\d+)\.html)", [per_page](const httplib::Request& req, httplib::Response& res) {
      res.set_content(listing_page(std::stoi(req.matches[1]), per_page), "text/html");
    });
    server_.Get(R"(/tupian/(\d+)\.html)", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(detail_page(req.matches[1]), "text/html");
    });
    server_.Get(R"(/uploads/allimg/(\d+)\.jpg)", [image_delay_ms](const httplib::Request& req, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(image_delay_ms));
      res.set_content(image_bytes(req.matches[1], 32 * 1024), "image/jpeg");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // bind_to_any_port already listens: connections queue until the accept loop runs.
  }
  ~LocalSite() {
    server_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// --- the crawler --------------------------------------------------------------------------------

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string fetch(const std::string& url) {
  CURL* curl = curl_easy_init();
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK || status != 200) {
    throw std::runtime_error("GET " + url + " failed: " + (rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP " + std::to_string(status)));
  }
  return body;
}

// Evaluates an XPath over an HTML page and returns the string value of every node it selects.
std::vector<std::string> xpath(const std::string& html, const char* expr) {
  htmlDocPtr doc = htmlReadMemory(html.data(), int(html.size()), nullptr, "utf-8",
                                  HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
  std::vector<std::string> out;
  if (doc == nullptr) return out;
  xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
  xmlXPathObjectPtr res = xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(expr), ctx);
  if (res != nullptr && res->nodesetval != nullptr) {
    for (int i = 0; i < res->nodesetval->nodeNr; ++i) {
      xmlChar* s = xmlNodeGetContent(res->nodesetval->nodeTab[i]);
      out.emplace_back(s ? reinterpret_cast<const char*>(s) : "");
      xmlFree(s);
    }
  }
  xmlXPathFreeObject(res);
  xmlXPathFreeContext(ctx);
  xmlFreeDoc(doc);
  return out;
}

struct Image {
  std::string title;
  std::string url;
};

lockgraph::shared<int> count{0, "count"};
lockgraph::mutex count_lock("count_lock");

void download(const Image& img, const std::string& dir, bool locked) {
  std::string bytes = fetch(img.url);
  std::ofstream(dir + "/" + std::filesystem::path(img.url).filename().string(), std::ios::binary) << bytes;
  if (locked) {
    std::lock_guard<lockgraph::mutex> g(count_lock);
    count.set(count.get() + 1);
  } else {
    count.set(count.get() + 1);  // the lecture's `count += 1`, unlocked
  }
}

double seconds_of(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The lecture's image crawler against a local HTTP server: listing -> detail -> image."};
  std::string mode = "all", count_mode = "unlocked", out_dir = "crawler-out";
  int per_page = 4, workers = 4, delay_ms = 20;
  app.add_option("--mode", mode, "Downloads: sequential | threads | processes | all (the timing table)")
      ->check(CLI::IsMember({"sequential", "threads", "processes", "all"}));
  app.add_option("--count", count_mode, "The shared download counter: unlocked (races) | locked")
      ->check(CLI::IsMember({"unlocked", "locked"}));
  app.add_option("--per-page", per_page, "Images per listing page (5 pages)")->check(CLI::Range(1, 100));
  app.add_option("--workers", workers, "Threads or processes for the downloads")->check(CLI::Range(1, 64));
  app.add_option("--delay-ms", delay_ms, "Server delay per image")->check(CLI::Range(0, 10000));
  app.add_option("--out", out_dir, "Directory for index.json and the images");
  app.footer("Expected: the index of 5 x --per-page images, the timing table; with --count unlocked lockgraph\n"
             "reports data_race on count (threads mode); --count locked is clean. Processes count separately.");
  CLI11_PARSE(app, argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  curl_global_init(CURL_GLOBAL_DEFAULT);
  xmlInitParser();
  LocalSite site(per_page, delay_ms);
  std::filesystem::create_directories(out_dir);

  // Listing pages -> detail pages -> image URLs (sequential, as in the lecture).
  std::vector<Image> images;
  for (int page = 1; page <= kPages; ++page) {
    std::string url = site.base() + (page == 1 ? "/4kdongman/" : "/4kdongman/index_" + std::to_string(page) + ".html");
    std::string html = fetch(url);
    auto hrefs = xpath(html, "//ul[@class='clearfix']/li/a/@href");
    auto titles = xpath(html, "//ul[@class='clearfix']/li/a/b/text()");
    for (std::size_t i = 0; i < hrefs.size() && i < titles.size(); ++i) {
      auto src = xpath(fetch(site.base() + hrefs[i]), "//div[@class='photo-pic']/a/img/@src");
      if (!src.empty()) images.push_back(Image{titles[i], site.base() + src[0]});
    }
  }
  nlohmann::json index = nlohmann::json::object();
  for (const Image& img : images) index[img.title] = img.url;
  std::ofstream(out_dir + "/index.json") << index.dump(2) << "\n";
  std::printf("index: %zu images from %d listing pages -> %s/index.json\n", images.size(), kPages, out_dir.c_str());

  bool locked = count_mode == "locked";
  auto run_sequential = [&] {
    for (const Image& img : images) download(img, out_dir, locked);
  };
  auto run_threads = [&] {
    std::vector<lockgraph::thread> ts;
    for (int w = 0; w < workers; ++w) {
      ts.emplace_back([&, w] {
        for (std::size_t i = std::size_t(w); i < images.size(); i += std::size_t(workers)) download(images[i], out_dir, locked);
      });
    }
    for (auto& t : ts) t.join();
  };
  auto run_processes = [&] {
    std::vector<pid_t> children;
    for (int w = 0; w < workers; ++w) {
      pid_t pid = fork();
      if (pid == 0) {
        for (std::size_t i = std::size_t(w); i < images.size(); i += std::size_t(workers)) download(images[i], out_dir, locked);
        std::printf("  process %d counted %d downloads (its own copy of count)\n", int(getpid()), count.get());
        std::exit(0);
      }
      children.push_back(pid);
    }
    for (pid_t c : children) waitpid(c, nullptr, 0);
  };
  std::printf("%-12s %10s %10s\n", "downloads", "seconds", "count");
  auto row = [&](const char* name, const std::function<void()>& f) {
    count.set(0);
    double s = seconds_of(f);
    std::printf("%-12s %10.3f %10d%s\n", name, s, count.get(),
                std::string(name) == "processes" ? "   (the parent's count: each process had its own)" : "");
  };
  if (mode == "sequential" || mode == "all") row("sequential", run_sequential);
  if (mode == "threads" || mode == "all") row("threads", run_threads);
  if (mode == "processes" || mode == "all") row("processes", run_processes);
  xmlCleanupParser();
  curl_global_cleanup();
  return 0;
}
