"""The service's web page in headless Chromium (selenium): type an instruction, pick a platform, and
see the answer with its sources. Needs Debian `chromium` + `chromium-driver` (installed by .ci/run)."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture()
def browser():
    if not CHROMIUM or not DRIVER:
        pytest.skip("chromium / chromedriver not installed: apt-get install -y chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_web_page_generates_with_sources(served_bento, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(f"{served_bento['url']}/ui/")
    assert "LLM Twin" in browser.title
    browser.find_element(By.ID, "instruction").send_keys("Write a LinkedIn post about Kafka streaming")
    Select(browser.find_element(By.ID, "platform")).select_by_value("linkedin")
    tokens = browser.find_element(By.ID, "max_new_tokens")
    tokens.clear()
    tokens.send_keys("16")
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 120).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#sources li a")))
    assert browser.find_element(By.ID, "answer").text.strip()
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#sources li a")]
    assert links and all(link.startswith("https://linkedin.com/") for link in links)
    assert browser.find_element(By.ID, "error").text == ""


def test_web_page_shows_validation_errors(served_bento, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{served_bento['url']}/ui/")
    browser.find_element(By.ID, "instruction").send_keys("hello")
    tokens = browser.find_element(By.ID, "max_new_tokens")
    tokens.clear()
    tokens.send_keys("5000")  # over the API's limit: the page must show the 400, not fail silently
    browser.execute_script("document.getElementById('max_new_tokens').removeAttribute('max')")
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 60).until(lambda d: d.find_element(By.ID, "error").text)
    assert "HTTP 400" in browser.find_element(By.ID, "error").text
